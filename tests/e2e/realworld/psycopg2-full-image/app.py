"""A health endpoint that reports the PostgreSQL client library it was built against, like the
/healthz of a Django or Flask app that imports psycopg2 at start (no database is needed to import it)."""

import http.server

import psycopg2


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"psycopg2 {psycopg2.__version__.split()[0]} libpq {psycopg2.__libpq_version__}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    print("serving on 8000", flush=True)
    http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
