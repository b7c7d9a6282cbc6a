package main

import _ "github.com/tecbot/gorocksdb"

func main() {}
