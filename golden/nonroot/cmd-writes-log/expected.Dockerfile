FROM python:3.13-slim
RUN mkdir -p /var/log/app
WORKDIR /app
COPY app.py .
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
 && mkdir -p /app /var/log/app \
 && chown 10001:10001 /app /var/log/app
USER 10001:10001
CMD ["/bin/sh", "-c", "exec python app.py >> /var/log/app/app.log 2>&1"]
