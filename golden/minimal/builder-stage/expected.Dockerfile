FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y build-essential
COPY . /src
RUN make -C /src

FROM debian:bookworm-slim
RUN apt-get update && apt-get install --no-install-recommends -y libstdc++6 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/app /usr/local/bin/app
CMD ["app"]
