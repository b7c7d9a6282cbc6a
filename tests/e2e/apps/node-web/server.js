// A tiny HTTP service that reports who it runs as and writes into its WORKDIR.
// GET / appends a line to hits.log in the current directory (the image's WORKDIR) and answers
// JSON {uid, gid, hits, file}, or status 500 with the error when the file cannot be written.
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");

const HITS = path.join(process.cwd(), "hits.log");

const server = http.createServer((req, res) => {
  let status = 200;
  let body;
  try {
    fs.appendFileSync(HITS, `GET ${req.url} uid=${process.getuid()}\n`);
    const hits = fs.readFileSync(HITS, "utf8").split("\n").filter(Boolean).length;
    body = { uid: process.getuid(), gid: process.getgid(), hits, file: HITS };
  } catch (err) {
    status = 500;
    body = { uid: process.getuid(), gid: process.getgid(), error: `${err.code}: ${err.message}` };
  }
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
});
server.listen(8080, () => console.log(`ready uid=${process.getuid()}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
