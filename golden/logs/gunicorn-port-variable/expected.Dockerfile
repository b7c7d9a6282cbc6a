FROM python:3.13-slim
ENV PYTHONUNBUFFERED=1
COPY . /app
WORKDIR /app
CMD gunicorn -b 0.0.0.0:$PORT --log-file - app:app
