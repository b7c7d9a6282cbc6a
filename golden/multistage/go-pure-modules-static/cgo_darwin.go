package main

// #include <mach/mach.h>
import "C"
