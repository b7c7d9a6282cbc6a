FROM python:3.12-slim
WORKDIR /srv
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
 && mkdir -p /srv /srv/web/public \
 && chown 10001:10001 /srv /srv/web/public \
 && mkdir -p /srv/media /var/www/static \
 && chown -R 10001:10001 /srv/media /var/www/static \
 && chown 10001:10001 /srv/web/public/config.js
USER 10001:10001
VOLUME /var/www/static
EXPOSE 8000
ENTRYPOINT ["./bin/start.sh"]
