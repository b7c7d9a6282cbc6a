FROM python:3.13-slim
WORKDIR /app
COPY . .
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:create_app()"]
