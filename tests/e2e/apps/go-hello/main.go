// hello: a static Go binary that says who runs it (a module without dependencies, so it builds offline).
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	wd, _ := os.Getwd()
	fmt.Printf("hello from go %s uid=%d gid=%d cwd=%s\n", runtime.Version(), os.Getuid(), os.Getgid(), wd)
}
