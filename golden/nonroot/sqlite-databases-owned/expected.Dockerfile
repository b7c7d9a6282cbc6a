FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends sqlite3 && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/bot
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY data/bot.db /var/lib/bot/bot.db
RUN sqlite3 cache.sqlite3 "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT);" \
 && python manage.py migrate --noinput
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
 && mkdir -p /srv/bot /var/lib/bot \
 && chown 10001:10001 /srv/bot /var/lib/bot \
 && chown 10001:10001 /srv/bot/cache.sqlite3 /srv/bot/db.sqlite3 /var/lib/bot/bot.db
USER 10001:10001
EXPOSE 8000
CMD ["gunicorn", "mysite.wsgi", "-b", "0.0.0.0:8000"]
