FROM python:3.13-slim
WORKDIR /app
COPY . .
RUN mkdir -p data uploads /var/log/myapp && touch /var/log/myapp/app.log
RUN mkdir -p /etc/myapp /var/lib/apt/lists/partial
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
 && mkdir -p /app \
 && chown 10001:10001 /app \
 && mkdir -p /app/data /app/uploads /var/log/myapp \
 && chown -R 10001:10001 /app/data /app/uploads /var/log/myapp
USER 10001:10001
EXPOSE 8000
CMD ["python", "server.py"]
