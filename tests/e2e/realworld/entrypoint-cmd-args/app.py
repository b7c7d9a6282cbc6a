import argparse
import http.server

parser = argparse.ArgumentParser(description="tiny echo service")
parser.add_argument("--listen", type=int, required=True)
parser.add_argument("--greeting", default="hello")
args = parser.parse_args()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(f"{args.greeting} on {args.listen}\n".encode())


http.server.HTTPServer(("0.0.0.0", args.listen), Handler).serve_forever()
