FROM python:3.13-slim
CMD exec python app.py \
    # the port comes from the environment
    --port 8000
