#!/bin/bash
trap "echo bye" EXIT
./server
