FROM ubuntu:24.04
RUN apt-get update \
    # runtime libraries only
    && apt-get install --no-install-recommends -y \
        libssl3 \
    # for image processing
        libjpeg-turbo8 \
    && useradd --system app && rm -rf /var/lib/apt/lists/*
USER app
