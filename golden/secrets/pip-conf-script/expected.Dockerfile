FROM python:3.13-slim
WORKDIR /app
COPY requirements.txt install-deps.sh ./
RUN --mount=type=secret,id=pipconf,target=/etc/pip.conf,required=true sh install-deps.sh
COPY . .
CMD ["python", "app.py"]
