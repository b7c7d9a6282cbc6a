"""A config service: / is the health check; /config parses the YAML with libyaml's C loader, which is
imported when the first request needs it (as many apps do to keep start-up fast)."""

from http.server import BaseHTTPRequestHandler, HTTPServer

CONFIG = "service: billing\nreplicas: 3\n"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/config":
            import yaml

            data = yaml.load(CONFIG, Loader=yaml.CSafeLoader)
            body = f"{data['service']} x{data['replicas']} (libyaml {yaml.__with_libyaml__})".encode()
        else:
            body = b"ok"
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    print("listening on 8080", flush=True)
    HTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
