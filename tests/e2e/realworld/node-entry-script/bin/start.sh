#!/bin/sh
# a start script in the style of many Node repositories: defaults, then exec the server
: "${NODE_ENV:=production}"
export NODE_ENV STARTED_BY=start.sh
exec node server.js
