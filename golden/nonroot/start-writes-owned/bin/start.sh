#!/bin/sh
set -e
python manage.py collectstatic --noinput
echo "window.API_URL='$API_URL';" > web/public/config.js
[ -d plugins ] || git clone --depth 1 "$PLUGINS_REPO" plugins
exec gunicorn mysite.wsgi -b 0.0.0.0:8000
