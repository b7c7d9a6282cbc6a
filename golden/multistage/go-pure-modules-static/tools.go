//go:build ignore

package main

import "C"
