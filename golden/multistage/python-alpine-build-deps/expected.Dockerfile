FROM python:3.11-alpine AS build
WORKDIR /app
RUN apk add --no-cache --virtual .build-deps gcc musl-dev \
 && apk add --no-cache postgresql-dev curl
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt && apk del .build-deps
COPY . .

FROM python:3.11-alpine
RUN apk add --no-cache libpq curl
COPY --from=build /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
COPY --from=build /usr/local/bin /usr/local/bin
COPY --from=build /app /app
WORKDIR /app
EXPOSE 8000
HEALTHCHECK CMD wget -qO- http://localhost:8000/health || exit 1
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
