FROM alpine:3.22
RUN apk add --no-cache ca-certificates
WORKDIR /app
COPY app /app/app
RUN addgroup -S -g 10001 app \
 && adduser -S -D -h /home/app -s /sbin/nologin -u 10001 -G app app \
 && mkdir -p /app \
 && chown 10001:10001 /app
USER 10001:10001
ENTRYPOINT ["/app/app"]
