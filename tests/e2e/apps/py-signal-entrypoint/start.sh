#!/bin/sh
set -e
echo "starting app"
cd /app
python /app/app.py
