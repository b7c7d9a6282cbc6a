"""The web process of a small Django-style project (the image's default command)."""

from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"orders web ok")

    def log_message(self, *args: object) -> None:
        pass


HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
