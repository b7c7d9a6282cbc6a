#!/bin/sh
# the classic entry script: checks a tool the image installed, prepares state, then execs the command
set -e
command -v nc >/dev/null || { echo "nc missing" >&2; exit 1; }
echo "prepared" > /var/lib/app/data/state
exec "$@"
