// A native addon built for Node 20 (NODE_MODULE_VERSION 115) is loaded at start; on another major
// Node refuses it. Stood in for by the same check, as the addon's loader does.
const http = require("http");

if (process.versions.modules !== "115") {
  console.error(`Error: The module 'renderer.node' was compiled against a different Node.js version using
NODE_MODULE_VERSION 115. This version of Node.js requires NODE_MODULE_VERSION ${process.versions.modules}.`);
  process.exit(1);
}
http.createServer((req, res) => res.end(`render service on node ${process.version}\n`))
  .listen(8080, () => console.log("listening on 8080"));
