import sys


def app(environ, start_response):
    body = f"venv wsgi ok: {sys.prefix}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
