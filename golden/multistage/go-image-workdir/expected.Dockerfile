FROM golang:1.24 AS build
# no WORKDIR: the golang image's own (/go) is where the sources and the binary go
COPY . .
RUN CGO_ENABLED=0 go build -o app .

FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /go/app /go/app
WORKDIR /go
EXPOSE 8080
CMD ["/go/app"]
