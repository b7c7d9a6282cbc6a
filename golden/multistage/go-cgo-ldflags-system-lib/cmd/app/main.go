package main

import (
	"fmt"

	"example.com/app/internal/store"
)

func main() { fmt.Println(store.Version()) }
