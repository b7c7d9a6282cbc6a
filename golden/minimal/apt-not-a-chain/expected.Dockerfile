FROM debian:bookworm-slim
RUN apt-get update && apt-get install --no-install-recommends -y libpq5 || echo "install failed"
RUN apt-get update && apt-get install --no-install-recommends -y tini | tee /tmp/install.log
