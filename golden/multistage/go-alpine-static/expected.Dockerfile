FROM golang:1.24-alpine AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /bin/server ./cmd/server

FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /bin/server /bin/server
WORKDIR /src
EXPOSE 8080
CMD ["/bin/server"]
