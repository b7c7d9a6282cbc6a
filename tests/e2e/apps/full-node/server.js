// A small JSON web service: GET / answers a fixed greeting and the uid it runs as.
// It logs "full-node listening on 8080" to stdout at start and one line per request.
"use strict";
const http = require("http");

const server = http.createServer((req, res) => {
  console.log(`request: ${req.method} ${req.url}`);
  const body = JSON.stringify({ greeting: "hello from full-node", uid: process.getuid() });
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(body);
});
server.listen(8080, () => console.log("full-node listening on 8080"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
