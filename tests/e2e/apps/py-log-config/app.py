import logging

logging.getLogger("app").info("py-log-config app loaded")


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]
