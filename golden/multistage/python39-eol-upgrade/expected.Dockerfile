FROM python:3.13-slim AS build
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .

FROM gcr.io/distroless/python3-debian13:nonroot
COPY --from=build /usr/local/lib/python3.13/site-packages /usr/local/lib/python3.13/dist-packages
COPY --from=build /app /app
WORKDIR /app
ENTRYPOINT ["/usr/bin/python3", "app.py"]
