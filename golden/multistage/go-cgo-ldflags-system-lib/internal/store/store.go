package store

/*
#cgo linux LDFLAGS: -lsqlite3
#cgo windows LDFLAGS: -lwinsqlite3
#include <sqlite3.h>
*/
import "C"

// Version is the SQLite library's version.
func Version() string { return C.GoString(C.sqlite3_libversion()) }
