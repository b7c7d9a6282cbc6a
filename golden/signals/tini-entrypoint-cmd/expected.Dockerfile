FROM debian:trixie-slim
COPY server /usr/local/bin/server
ENTRYPOINT ["tini", "--"]
CMD ["server", "--port", "8080"]
