FROM python:3.12 AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev netcat-openbsd \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /code
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY docker/entrypoint.sh /entrypoint.sh
RUN chmod +x /entrypoint.sh && mkdir -p /var/lib/app/uploads
COPY . .
ENV DJANGO_SETTINGS_MODULE=site.settings

FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 netcat-openbsd && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/lib/python3.12/site-packages /usr/local/lib/python3.12/site-packages
COPY --from=build /usr/local/bin /usr/local/bin
COPY --from=build /code /code
COPY --from=build /entrypoint.sh /entrypoint.sh
COPY --from=build /var/lib/app/uploads /var/lib/app/uploads
WORKDIR /code
ENV DJANGO_SETTINGS_MODULE=site.settings
EXPOSE 8000
ENTRYPOINT ["/entrypoint.sh"]
CMD ["gunicorn", "site.wsgi", "-b", "0.0.0.0:8000"]
