package main

import (
	"database/sql"
	"net/http"

	"github.com/go-chi/chi/v5"
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"
)

func main() {
	_, _ = sql.Open("sqlite", ":memory:")
	r := chi.NewRouter()
	_ = http.ListenAndServe(":8080", r)
}
