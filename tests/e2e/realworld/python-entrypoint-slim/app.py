import ctypes
import os
import shutil


def app(environ, start_response):
    with open("/var/lib/app/data/state") as fh:
        state = fh.read().strip()
    ctypes.CDLL("libpq.so.5")  # the runtime library of libpq-dev, which psycopg2 would load
    compiler = "gcc" if shutil.which("gcc") else "no-gcc"
    body = f"{os.environ['APP_GREETING']}: {state} libpq {compiler}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
