// notes: a small HTTP service on SQLite (github.com/mattn/go-sqlite3, a cgo driver). It opens an
// in-memory database at start, seeds it, and answers every request with a query's result.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/http"

	_ "github.com/mattn/go-sqlite3"
)

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	flag.Parse()
	db, err := sql.Open("sqlite3", "file::memory:?cache=shared")
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	// a binary built with CGO_ENABLED=0 fails here: "go-sqlite3 requires cgo to work. This is a stub"
	if _, err := db.Exec(`create table notes (body text); insert into notes values ('first'), ('second')`); err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var count int
		var version string
		if err := db.QueryRow(`select count(*), sqlite_version() from notes`).Scan(&count, &version); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "notes: %d (sqlite %s)\n", count, version)
	})
	log.Printf("notes listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
