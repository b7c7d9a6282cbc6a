FROM python:3.13-slim AS build
RUN pip install --no-cache-dir --target /deps flask

FROM python:3.13-slim
COPY --from=build /deps /deps
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/app --shell /usr/sbin/nologin app
USER 10001:10001
ENV PYTHONPATH=/deps
CMD ["python", "-m", "flask", "run", "--port", "8000"]
