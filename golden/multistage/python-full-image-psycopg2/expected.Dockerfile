FROM python:3.11 AS build
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
COPY --from=build /app /app
WORKDIR /app
EXPOSE 8000
ENTRYPOINT []
CMD ["/usr/local/bin/python3", "-m", "gunicorn", "-b", "0.0.0.0:8000", "app:app"]
