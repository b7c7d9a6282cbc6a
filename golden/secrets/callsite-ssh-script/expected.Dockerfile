FROM python:3.13-slim
RUN apt-get update && apt-get install -y --no-install-recommends git openssh-client && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /root/.ssh && ssh-keyscan github.com >> /root/.ssh/known_hosts
WORKDIR /app
COPY requirements.txt .
RUN --mount=type=ssh pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "app.py"]
