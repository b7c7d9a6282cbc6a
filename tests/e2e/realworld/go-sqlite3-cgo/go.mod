module example.com/notes

go 1.24

require github.com/mattn/go-sqlite3 v1.14.16

replace github.com/mattn/go-sqlite3 => /usr/share/gocode/src/github.com/mattn/go-sqlite3
