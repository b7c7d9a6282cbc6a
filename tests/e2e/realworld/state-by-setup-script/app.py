"""A small internal counter: the state file lives in a folder a setup script made at build time."""
from http.server import BaseHTTPRequestHandler, HTTPServer

STATE = "/var/lib/visits/count"


def bump() -> int:
    with open(STATE) as fh:
        n = int(fh.read().strip() or 0) + 1
    with open(STATE, "w") as fh:  # rewritten on every visit, and once at start
        fh.write(str(n))
    return n


bump()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"visits counted: {bump() > 1}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


print("state-by-setup-script listening on 8000", flush=True)
HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
