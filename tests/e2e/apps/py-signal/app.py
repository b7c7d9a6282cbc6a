"""A tiny HTTP service (stdlib only) that shuts down gracefully on SIGTERM.

It prints "ready" once it listens on :8080 and, when SIGTERM reaches it, "graceful shutdown"
before it exits 0. If it is not PID 1 and the shell in front of it does not forward the signal,
the runtime's stop timeout runs out and it is killed without printing anything.
"""

import http.server
import os
import signal
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"ready pid={os.getpid()}", flush=True)
    while not stop.wait(0.1):
        pass
    print("graceful shutdown", flush=True)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
