FROM python:3.13 AS build
WORKDIR /srv
COPY pyproject.toml .
COPY src/ src/
RUN pip install .

FROM python:3.13-slim
RUN apt-get update && apt-get install -y --no-install-recommends libmariadb3 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/lib/python3.13/site-packages /usr/local/lib/python3.13/site-packages
COPY --from=build /usr/local/bin /usr/local/bin
COPY --from=build /srv /srv
WORKDIR /srv
CMD ["python", "-m", "app"]
