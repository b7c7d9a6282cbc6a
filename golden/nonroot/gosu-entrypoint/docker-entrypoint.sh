#!/bin/sh
set -e
if [ "$(id -u)" = "0" ]; then
  exec gosu postgres "$0" "$@"
fi
exec "$@"
