import http.server
import os

with open("/etc/acme/platform.conf") as f:
    PLATFORM = f.read().strip()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"acme service: env={os.environ.get('ACME_ENV')} {PLATFORM} cwd={os.getcwd()}\n".encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
