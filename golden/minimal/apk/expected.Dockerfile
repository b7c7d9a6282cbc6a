FROM alpine:3.20
RUN apk update && apk add --no-cache --virtual .run-deps tzdata \
    && apk add --no-cache --update postgresql-client
COPY app /usr/local/bin/app
