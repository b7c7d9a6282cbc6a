#!/bin/sh
set -e
if [ -n "$MIGRATE" ]; then
  ./migrate
fi
./server "$@"
