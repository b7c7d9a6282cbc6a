FROM rust:1.83 AS build
WORKDIR /usr/src/app
COPY . .
RUN cargo build --release

FROM gcr.io/distroless/cc-debian13:nonroot
COPY --from=build /usr/src/app/target/release/app /usr/src/app/target/release/app
COPY --from=build /usr/src/app/Rocket.toml /usr/src/app/Rocket.toml
COPY --from=build /usr/src/app/bot.db /usr/src/app/bot.db
WORKDIR /usr/src/app
EXPOSE 8000
CMD ["/usr/src/app/target/release/app"]
