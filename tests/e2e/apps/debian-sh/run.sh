#!/bin/sh
# Reports who it runs as and writes a file into its WORKDIR (the current directory), then idles.
# "ready uid=<uid> gid=<gid>" once state.txt is written; "write failed ..." and exit 1 when it cannot be.
uid=$(id -u) gid=$(id -g)
if ! echo "uid=$uid gid=$gid site=$(cat /srv/www/index.html)" > state.txt; then
  echo "write failed: uid=$uid cannot write $(pwd)/state.txt"
  exit 1
fi
echo "ready uid=$uid gid=$gid"
trap 'exit 0' TERM
while :; do sleep 1; done
