FROM rust:1.86 AS build
WORKDIR /usr/src/app
COPY . .
RUN cargo build --release

FROM gcr.io/distroless/cc-debian13:nonroot
COPY --from=build /usr/src/app/target/release/app /usr/src/app/target/release/app
WORKDIR /usr/src/app
CMD ["/usr/src/app/target/release/app"]
