FROM debian:trixie-slim
RUN apt-get update && apt-get install -y --no-install-recommends nginx && rm -rf /var/lib/apt/lists/*
COPY site.conf /etc/nginx/conf.d/site.conf
RUN mkdir -p /var/log/app \
 && ln -sf /dev/stdout /var/log/app/access.log \
 && ln -sf /dev/stderr /var/log/app/error.log
CMD ["nginx", "-g", "daemon off;"]
