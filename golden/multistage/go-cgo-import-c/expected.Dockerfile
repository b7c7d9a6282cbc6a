FROM golang:1.24 AS build
WORKDIR /src
COPY go.mod *.go ./
RUN go build -o /usr/local/bin/hello .

FROM gcr.io/distroless/cc-debian13:nonroot
COPY --from=build /usr/local/bin/hello /usr/local/bin/hello
WORKDIR /src
EXPOSE 8080
CMD ["/usr/local/bin/hello"]
