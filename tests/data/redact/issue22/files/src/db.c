#include <libpq-fe.h>

PGconn *open_db(void) {
  return PQconnectdb("host=db user=app password=LibPqFake#4471 dbname=app");
}
