FROM golang:1.24 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app ./cmd/app

FROM debian:trixie-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-0 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/app /out/app
WORKDIR /src
ENTRYPOINT []
CMD ["/out/app"]
