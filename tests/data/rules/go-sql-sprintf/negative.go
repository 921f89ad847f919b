package main

func find(db *DB, name string) {
	rows, _ := db.Query("SELECT id FROM users WHERE name = $1", name)
	_ = rows
}
