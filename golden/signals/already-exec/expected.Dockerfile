FROM debian:trixie-slim
CMD ["./server", "--port", "8080"]
FROM debian:trixie-slim
CMD ["./server"]
