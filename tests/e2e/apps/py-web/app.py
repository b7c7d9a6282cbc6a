"""A tiny HTTP service (stdlib only) that reports who it runs as and writes into its WORKDIR.

GET / appends a line to ``hits.log`` in the current directory (the image's WORKDIR) and answers
JSON: ``{"uid": ..., "gid": ..., "hits": <lines in hits.log>, "file": <its path>}``, or status 500
with the error when the file cannot be written (a WORKDIR the user does not own).
"""

import http.server
import json
import os

HITS = os.path.join(os.getcwd(), "hits.log")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        try:
            with open(HITS, "a") as f:
                f.write(f"GET {self.path} uid={os.getuid()}\n")
            with open(HITS) as f:
                hits = sum(1 for _ in f)
            status, body = 200, {"uid": os.getuid(), "gid": os.getgid(), "hits": hits, "file": HITS}
        except OSError as exc:
            status, body = 500, {"uid": os.getuid(), "gid": os.getgid(), "error": f"{type(exc).__name__}: {exc}"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler)
    print(f"ready uid={os.getuid()}", flush=True)
    server.serve_forever()
