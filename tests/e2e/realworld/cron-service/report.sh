#!/bin/sh
echo "$(date -u +%FT%TZ) report generated"
