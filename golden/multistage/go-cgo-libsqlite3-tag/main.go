package main

import (
	"database/sql"
	"fmt"
	"log"
	"net/http"

	_ "github.com/mattn/go-sqlite3"
)

func main() {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var v string
		_ = db.QueryRow("select sqlite_version()").Scan(&v)
		fmt.Fprintln(w, v)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
