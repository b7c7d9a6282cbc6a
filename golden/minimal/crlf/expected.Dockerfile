FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install --no-install-recommends -y \
       libpq5 \
    && echo ok && rm -rf /var/lib/apt/lists/*
COPY app.sh /app.sh
CMD ["/app.sh"]
