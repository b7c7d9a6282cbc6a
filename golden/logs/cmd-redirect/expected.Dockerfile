FROM python:3.13-slim
ENV PYTHONUNBUFFERED=1
COPY app.py /app/app.py
CMD ["python", "/app/app.py"]
