FROM composer:2 AS vendor
WORKDIR /app
COPY composer.json composer.lock ./
RUN --mount=type=secret,id=composer-auth,target=/app/auth.json,required=true composer install --no-dev --no-scripts

FROM php:8.3-fpm
COPY --from=vendor /app/vendor /var/www/vendor
COPY . /var/www
