FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y libpq5 tini && rm -rf /var/lib/apt/lists/*
COPY app /app
CMD ["/app/run"]
