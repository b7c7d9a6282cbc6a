FROM python:3.13-slim
WORKDIR /srv
COPY requirements.txt .
RUN --mount=type=secret,id=netrc,target=/root/.netrc,required=true pip install --no-cache-dir -r requirements.txt
COPY app.py .
CMD ["python", "app.py"]
