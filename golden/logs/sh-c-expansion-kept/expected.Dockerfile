FROM python:3.13-slim
ENV PYTHONUNBUFFERED=1
COPY . /app
WORKDIR /app
CMD ["sh", "-c", "celery -A proj worker --concurrency=${WORKERS:-2}"]
