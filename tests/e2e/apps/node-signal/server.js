// A tiny HTTP service that shuts down gracefully on SIGTERM: "ready" once it listens on :8080,
// "graceful shutdown" and exit 0 when SIGTERM reaches it.
"use strict";
const http = require("http");

const server = http.createServer((req, res) => res.end("ok\n"));
server.listen(8080, () => console.log(`ready pid=${process.pid}`));
process.on("SIGTERM", () => {
  console.log("graceful shutdown");
  server.close(() => process.exit(0));
});
