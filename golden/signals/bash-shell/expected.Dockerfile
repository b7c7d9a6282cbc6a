FROM debian:trixie-slim
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
CMD ["/bin/bash", "-o", "pipefail", "-c", "source /etc/profile && exec ./server"]
