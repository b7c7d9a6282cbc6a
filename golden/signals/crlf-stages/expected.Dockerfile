FROM golang:1.24 AS build
RUN go build -o /app .
CMD ["go", "test", "./..."]

FROM debian:trixie-slim
COPY --from=build /app /app
CMD ["/app", "-listen", ":8080"]