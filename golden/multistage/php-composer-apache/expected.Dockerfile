FROM php:8.3-apache AS build
RUN apt-get update && apt-get install -y git unzip libpng-dev \
    && docker-php-ext-install gd pdo_mysql
COPY --from=composer:2 /usr/bin/composer /usr/bin/composer
RUN a2enmod rewrite
WORKDIR /var/www/html
COPY . .
RUN composer install --no-dev --optimize-autoloader

FROM php:8.3-apache
RUN apt-get update && apt-get install -y libpng16-16 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/lib/php /usr/local/lib/php
COPY --from=build /usr/local/etc/php /usr/local/etc/php
COPY --from=build /var/www/html /var/www/html
COPY --from=build /etc/apache2 /etc/apache2
WORKDIR /var/www/html
