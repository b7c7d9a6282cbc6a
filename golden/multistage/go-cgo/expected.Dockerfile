FROM golang:1.24-bookworm AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=1 go build -o /out/app .

FROM gcr.io/distroless/cc-debian13:nonroot
COPY --from=build /out/app /out/app
WORKDIR /src
CMD ["/out/app", "-listen", ":8080"]
