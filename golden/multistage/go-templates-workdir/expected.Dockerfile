FROM golang:1.24 AS build
WORKDIR /go/src/app
COPY . .
RUN CGO_ENABLED=0 go build -o /usr/local/bin/app .

FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /usr/local/bin/app /usr/local/bin/app
COPY --from=build /go/src/app/static /go/src/app/static
COPY --from=build /go/src/app/templates /go/src/app/templates
WORKDIR /go/src/app
EXPOSE 8080
CMD ["/usr/local/bin/app"]
