FROM python:3.11 AS build
WORKDIR /app
COPY . .
RUN pip install --prefix=/install -r requirements.txt

FROM python:3.11-slim
COPY --from=build /install /usr/local
COPY --from=build /app /app
WORKDIR /app
CMD ["python", "app.py"]
