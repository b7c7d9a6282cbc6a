FROM golang:1.24 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /usr/local/bin/app ./cmd/app

FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /usr/local/bin/app /usr/local/bin/app
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/app"]
CMD ["--listen", ":8080"]
