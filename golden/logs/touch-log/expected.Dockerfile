FROM debian:trixie-slim
RUN mkdir -p /var/log/app && ln -sf /dev/stdout /var/log/app/app.log && ln -sf /dev/stderr /var/log/app/error.log
COPY app /usr/local/bin/app
CMD ["/usr/local/bin/app"]
