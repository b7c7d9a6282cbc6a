FROM python:3.13-slim
RUN useradd --uid 1001 --create-home web
USER web
COPY . /home/web/app
USER 1001
CMD ["python", "/home/web/app/main.py"]
