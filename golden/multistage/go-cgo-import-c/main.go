package main

/*
#include <unistd.h>
static long page(void) { return sysconf(_SC_PAGESIZE); }
*/
import "C"

import "fmt"

func main() {
	fmt.Println("page size", int(C.page()))
}
