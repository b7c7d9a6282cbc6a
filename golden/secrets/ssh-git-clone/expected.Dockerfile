FROM debian:trixie-slim AS src
RUN apt-get update && apt-get install -y --no-install-recommends git openssh-client ca-certificates && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /root/.ssh
RUN ssh-keyscan github.com >> /root/.ssh/known_hosts
RUN --mount=type=ssh git clone git@github.com:example/private.git /src

FROM debian:trixie-slim
COPY --from=src /src /src
CMD ["/src/run"]
