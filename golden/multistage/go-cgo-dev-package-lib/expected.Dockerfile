FROM golang:1.24-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev
WORKDIR /src
COPY . .
RUN go build -o /app/server .

FROM debian:trixie-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-0 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/server /app/server
WORKDIR /src
ENTRYPOINT []
CMD ["/app/server"]
