FROM python:3.13-slim AS build
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV PYTHONUNBUFFERED=1

FROM gcr.io/distroless/python3-debian13:nonroot
COPY --from=build /usr/local/lib/python3.13/site-packages /usr/local/lib/python3.13/dist-packages
COPY --from=build /app /app
WORKDIR /app
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
ENTRYPOINT []
CMD ["/usr/bin/python3", "-m", "gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
