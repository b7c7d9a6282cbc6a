FROM python:3.15 AS build
WORKDIR /srv
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
COPY . .
RUN pip install -r requirements.txt

FROM python:3.15-slim
COPY --from=build /usr/local/lib/python3.15/site-packages /usr/local/lib/python3.15/site-packages
COPY --from=build /usr/local/bin /usr/local/bin
COPY --from=build /srv /srv
WORKDIR /srv
CMD python -m http.server 8000 --directory "$PWD/public"
