FROM debian:trixie-slim
COPY app /app
CMD ["/app"]
