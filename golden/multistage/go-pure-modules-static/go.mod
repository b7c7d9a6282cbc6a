module example.com/api

go 1.24

require (
	github.com/go-chi/chi/v5 v5.1.0
	github.com/lib/pq v1.10.9
	modernc.org/sqlite v1.34.1
)
