FROM python:3.13-slim AS build
ENV POETRY_VIRTUALENVS_CREATE=false
WORKDIR /app
RUN pip install --no-cache-dir poetry
COPY pyproject.toml poetry.lock ./
RUN poetry install --only main --no-root
COPY . .

FROM gcr.io/distroless/python3-debian13:nonroot
COPY --from=build /usr/local/lib/python3.13/site-packages /usr/local/lib/python3.13/dist-packages
COPY --from=build /app /app
WORKDIR /app
ENTRYPOINT []
CMD ["/usr/bin/python3", "-m", "uvicorn", "app.main:app", "--host", "0.0.0.0"]
