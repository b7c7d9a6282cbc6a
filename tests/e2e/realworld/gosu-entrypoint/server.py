import http.server
import os
import pwd

DATA = "/app/data/visits.log"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(DATA, "a") as f:
            f.write(self.path + "\n")
        with open(DATA) as f:
            visits = len(f.readlines())
        user = pwd.getpwuid(os.getuid()).pw_name
        body = f"gosu app ok: user={user} visits={visits}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)


with open(DATA, "a") as f:
    f.write("start\n")
print("listening on 8000", flush=True)
http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
