FROM python:3.13-slim
RUN apt-get update && apt-get install -y git openssh-client
RUN mkdir -p /root/.ssh
RUN ssh-keyscan -p 2222 git.internal >> /root/.ssh/known_hosts
RUN --mount=type=ssh git clone ssh://git@git.internal:2222/srv/dep.git /opt/dep
CMD ["python3", "-m", "dep"]
