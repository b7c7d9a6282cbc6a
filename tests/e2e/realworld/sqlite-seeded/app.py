import sqlite3
from http.server import BaseHTTPRequestHandler, HTTPServer

DB = "/app/db.sqlite3"

# record the start: the app writes into the seeded database
with sqlite3.connect(DB) as conn:
    conn.execute("INSERT INTO visits VALUES ('start')")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        with sqlite3.connect(DB) as conn:
            conn.execute("INSERT INTO visits VALUES ('request')")
            n = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
        body = f"visits recorded: {n > 2}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


print("sqlite-seeded listening on 8000", flush=True)
HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
