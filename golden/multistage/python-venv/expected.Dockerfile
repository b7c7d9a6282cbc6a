FROM python:3.13-slim AS build
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .

FROM gcr.io/distroless/python3-debian13:nonroot
COPY --from=build /usr/local/lib/python3.13/site-packages /usr/local/lib/python3.13/dist-packages
COPY --from=build /opt/venv/lib/python3.13/site-packages /usr/local/lib/python3.13/dist-packages
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH
EXPOSE 8000
ENTRYPOINT []
CMD ["/usr/bin/python3", "-m", "gunicorn", "-b", "0.0.0.0:8000", "app:app"]
