// greet: a single-stage Go app (the whole toolchain ships in the image) whose output does not depend
// on the user, the working directory or the base image, so a rewrite onto distroless must print the same.
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Printf("greetings from %s on %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintln(os.Stderr, "done")
}
