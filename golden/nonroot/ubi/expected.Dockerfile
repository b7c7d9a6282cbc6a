FROM registry.access.redhat.com/ubi9/ubi:9.6
RUN dnf install -y python3 && dnf clean all
WORKDIR /opt/app
COPY . .
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/app --shell /sbin/nologin app \
 && mkdir -p /opt/app \
 && chown 10001:10001 /opt/app
USER 10001:10001
CMD ["python3", "main.py"]
