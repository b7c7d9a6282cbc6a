FROM redis:8
COPY worker.py /worker.py
RUN apt-get update && apt-get install -y python3
CMD ["python3", "/worker.py"]
