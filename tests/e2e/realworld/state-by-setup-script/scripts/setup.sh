#!/bin/sh
# one-time setup of the tool's state folder (the repository's own script: what it makes is not in the
# Dockerfile)
set -e
mkdir -p /var/lib/visits
echo 0 > /var/lib/visits/count
