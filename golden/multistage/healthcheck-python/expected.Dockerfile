FROM python:3.13-slim AS build
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .

FROM gcr.io/distroless/python3-debian13:nonroot
COPY --from=build /usr/local/lib/python3.13/site-packages /usr/local/lib/python3.13/dist-packages
COPY --from=build /app /app
WORKDIR /app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD ["/usr/bin/python3", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/health', timeout=10)"]
ENTRYPOINT []
CMD ["/usr/bin/python3", "app.py"]
