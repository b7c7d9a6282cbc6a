#!/bin/sh
set -e

# the data folder may be a fresh volume: hand it to the app user, then drop root
if [ "$(id -u)" = "0" ]; then
    chown -R app:app /app/data
    exec gosu app "$@"
fi
exec "$@"
