FROM python:3.13-slim
ENV PYTHONUNBUFFERED=1
COPY . /app
WORKDIR /app
CMD ["celery", "-A", "tasks", "worker", "--loglevel=info"]
