import http.server

import acme_greeting


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(f"{acme_greeting.greet()} (acme-greeting {acme_greeting.__version__})\n".encode())


http.server.HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
