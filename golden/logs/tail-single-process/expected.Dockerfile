FROM python:3.13-slim
ENV PYTHONUNBUFFERED=1
COPY worker.py /worker.py
CMD ["python", "/worker.py"]
