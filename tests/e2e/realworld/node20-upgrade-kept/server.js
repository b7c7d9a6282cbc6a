const http = require("http");

const server = http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain" });
  res.end(`orders api on node ${process.version.split(".")[0]}\n`);
});
server.listen(8080, () => console.log("listening on 8080"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
