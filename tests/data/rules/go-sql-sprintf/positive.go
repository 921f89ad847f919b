package main

import "fmt"

func find(db *DB, name string) {
	rows, _ := db.Query(fmt.Sprintf("SELECT id FROM users WHERE name = '%s'", name))
	_ = rows
}
