FROM debian:trixie-slim
RUN apt-get update && apt-get install -y --no-install-recommends nginx && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /var/log/nginx \
 && ln -sf /dev/stdout /var/log/nginx/access.log
CMD ["nginx", "-g", "daemon off;"]
