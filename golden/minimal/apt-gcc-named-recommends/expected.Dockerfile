FROM debian:trixie-slim
WORKDIR /src
COPY hello.c .
RUN apt-get update && apt-get install --no-install-recommends libc6-dev -y gcc && gcc -O2 -o /usr/local/bin/hello hello.c && rm -rf /var/lib/apt/lists/*
CMD ["hello"]
