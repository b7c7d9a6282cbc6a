FROM python:3.11 AS build
RUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*
RUN useradd -m -u 1000 appuser
WORKDIR /home/appuser/app
COPY --chown=appuser . .
RUN pip install -r requirements.txt

FROM python:3.11-slim
COPY --from=build /etc/passwd /etc/group /etc/
COPY --from=build /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
COPY --from=build /usr/local/bin /usr/local/bin
COPY --from=build /home/appuser/app /home/appuser/app
COPY --from=build /home /home
WORKDIR /home/appuser/app
USER appuser
CMD ./start.sh
