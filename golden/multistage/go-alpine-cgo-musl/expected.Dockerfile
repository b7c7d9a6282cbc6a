FROM golang:1.24-alpine AS build
RUN apk add --no-cache gcc musl-dev
WORKDIR /src
COPY . .
RUN go build -o /bin/server .

FROM alpine:3.23
COPY --from=build /bin/server /bin/server
WORKDIR /src
EXPOSE 8080
ENTRYPOINT []
CMD ["/bin/server"]
