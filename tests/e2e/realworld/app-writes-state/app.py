import http.server
import json
import os
import time

os.makedirs("/app/uploads/incoming", exist_ok=True)
STATE = {"started": time.time(), "pid": os.getpid()}
with open("/app/data/state.json", "w") as f:
    json.dump(STATE, f)
with open("/app/uploads/incoming/.keep", "w") as f:
    f.write("")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open("/app/data/state.json") as f:
            state = json.load(f)
        body = f"state ok: pid={state['pid']}\n".encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
