FROM rust:1.91 AS build
WORKDIR /usr/src/app
COPY . .
RUN cargo build --release && cp target/release/server /usr/local/bin/server

FROM gcr.io/distroless/cc-debian13:nonroot
COPY --from=build /usr/local/bin/server /usr/local/bin/server
WORKDIR /usr/src/app
EXPOSE 8080
CMD ["/usr/local/bin/server", "--port", "8080"]
