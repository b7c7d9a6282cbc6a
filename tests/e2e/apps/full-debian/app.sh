#!/bin/sh
# A worker that writes one "tick" line per second.
echo "full-debian worker started"
i=1
while :; do
  echo "tick $i"
  i=$((i + 1))
  sleep 1
done
