// A one-shot HTTP service: it listens on loopback, fetches its own page once, prints the answer
// (who it runs as, where, which Node) and exits.  No dependencies, so `npm install` works offline.
"use strict";
const http = require("http");

const server = http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain" });
  res.end(`hello from node ${process.version} uid=${process.getuid()} gid=${process.getgid()} cwd=${process.cwd()}`);
});
server.listen(0, "127.0.0.1", () => {
  http.get({ host: "127.0.0.1", port: server.address().port, path: "/" }, (res) => {
    let body = "";
    res.on("data", (d) => (body += d));
    res.on("end", () => {
      console.log(`${res.statusCode} ${body}`);
      server.close();
    });
  }).on("error", (err) => {
    console.error(err.message);
    process.exit(1);
  });
});
