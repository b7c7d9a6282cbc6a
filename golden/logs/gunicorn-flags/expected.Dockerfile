FROM python:3.13-slim
ENV PYTHONUNBUFFERED=1
WORKDIR /app
COPY . .
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--error-logfile=-", "app:app"]
