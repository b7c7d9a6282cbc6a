FROM python:3.13-slim AS build
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY config/app.ini /etc/myapp/app.ini
COPY static/ /usr/share/myapp/static/
COPY tools/ /opt/
COPY healthcheck.py /opt/
COPY . .

FROM gcr.io/distroless/python3-debian13:nonroot
COPY --from=build /usr/local/lib/python3.13/site-packages /usr/local/lib/python3.13/dist-packages
COPY --from=build /app /app
COPY --from=build /etc/myapp/app.ini /etc/myapp/app.ini
COPY --from=build /usr/share/myapp/static /usr/share/myapp/static
COPY --from=build /opt/README /opt/README
COPY --from=build /opt/bin /opt/bin
COPY --from=build /opt/healthcheck.py /opt/healthcheck.py
WORKDIR /app
EXPOSE 8000
ENTRYPOINT []
CMD ["/usr/bin/python3", "app.py"]
