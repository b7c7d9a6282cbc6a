import http.server


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body, status = b'{"status": "healthy"}\n', 200
        elif self.path == "/":
            body, status = b"healthcheck app\n", 200
        else:
            body, status = b"not found\n", 404
        self.send_response(status)
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
