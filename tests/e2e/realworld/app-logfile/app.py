import http.server
import logging

logging.basicConfig(
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(message)s",
    handlers=[logging.FileHandler("/var/log/myapp/app.log"), logging.StreamHandler()],
)
log = logging.getLogger("myapp")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log.info("GET %s", self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"logged ok\n")

    def log_message(self, *args):
        pass


log.info("myapp starting on 8080")
http.server.HTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
