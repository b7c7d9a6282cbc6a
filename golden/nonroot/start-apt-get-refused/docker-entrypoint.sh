#!/bin/sh
set -e
if [ -n "$EXTRA_PACKAGES" ]; then
  apt-get update && apt-get install -y --no-install-recommends $EXTRA_PACKAGES
fi
exec "$@"
