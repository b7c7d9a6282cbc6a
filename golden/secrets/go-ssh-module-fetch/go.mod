module github.com/acme/api

go 1.24

require github.com/acme/internal v1.4.0
