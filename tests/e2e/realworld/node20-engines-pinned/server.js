'use strict';
// Like apps that ship an addon built for one Node ABI (or run check-node-version at start): refuse
// to start on any other major than the one package.json's engines names.
const http = require('http');
const { engines } = require('./package.json');

const wanted = engines.node.split('.')[0];
const major = process.versions.node.split('.')[0];
if (major !== wanted) {
  console.error(`this build needs Node ${engines.node}, not ${process.versions.node}`);
  process.exit(1);
}

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(`legacy api on node v${major}\n`);
});
server.listen(8080, '0.0.0.0', () => console.log('listening on 8080'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
