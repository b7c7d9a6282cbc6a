FROM golang:1.22 AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN go build -tags libsqlite3 -o /app/server .

FROM debian:trixie-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-0 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/server /app/server
WORKDIR /src
ENTRYPOINT []
CMD ["/app/server"]
