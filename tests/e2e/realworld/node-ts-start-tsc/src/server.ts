// a TypeScript service compiled at start (`npm start` runs `tsc` first, as many repositories do)
declare const require: (name: string) => any;
declare const process: { env: Record<string, string | undefined>; version: string };

const http = require("http");
const port = Number(process.env.PORT ?? "3000");
const message: string = `typescript compiled at start on node ${process.version.split(".")[0]}`;

http.createServer((_req: unknown, res: any) => {
  res.writeHead(200, { "Content-Type": "text/plain" });
  res.end(message + "\n");
}).listen(port, "0.0.0.0", () => console.log(`listening on ${port}`));
