// Prints a greeting and the uid it runs as, then exits.
const os = require("os");
console.log(`hello from multistage node ${process.versions.node.split(".")[0]}`);
console.error(`uid ${process.getuid()}`);
