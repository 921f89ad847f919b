#ifndef DB_H
#define DB_H

#define DB_USER "app"
#define DB_PASSWORD "Fake-Db-Pass-2026!x"

int db_connect(void);

#endif
