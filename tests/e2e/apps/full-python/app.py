"""A small JSON web service (stdlib only): GET / answers a fixed greeting and the uid it runs as.

It logs ``full-python listening on 8080`` at start and one line per request to stdout.
"""

import http.server
import json
import os


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"greeting": "hello from full-python", "uid": os.getuid()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        print(f"request: {format % args}", flush=True)


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler)
    print("full-python listening on 8080", flush=True)
    server.serve_forever()
