import os

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return f"flask on gunicorn, port {os.environ['PORT']}\n"
