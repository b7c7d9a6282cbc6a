FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN go build -o /app/server .

FROM gcr.io/distroless/cc-debian13:nonroot
COPY --from=build /app/server /app/server
WORKDIR /src
CMD ["/app/server"]
