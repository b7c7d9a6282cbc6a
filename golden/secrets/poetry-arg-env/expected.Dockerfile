FROM python:3.13-slim
ENV POETRY_HTTP_BASIC_PRIVATE_USERNAME=ci
RUN pip install --no-cache-dir poetry
WORKDIR /app
COPY pyproject.toml poetry.lock ./
RUN --mount=type=secret,id=poetry_http_basic_private_password,required=true export POETRY_HTTP_BASIC_PRIVATE_PASSWORD="$(cat /run/secrets/poetry_http_basic_private_password)" && poetry install --only main
CMD ["poetry", "run", "app"]
