package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	flag.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "go service ok")
	})
	log.Printf("go-service listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
