FROM alpine:3.22
CMD ["app"]
RUN apk add --no-cache curl
COPY app /usr/local/bin/app
RUN addgroup -S -g 10001 app \
 && adduser -S -D -h /home/app -s /sbin/nologin -u 10001 -G app app
USER 10001:10001