// lab/multi.sh's Node.js client: http.get with autoSelectFamily (Node 20's default), which
// connects to the addresses of a name in turn, 250 ms apart, and keeps the first that answers.
const http = require("http");
const req = http.get({ host: process.argv[2], port: Number(process.argv[3]), path: "/", autoSelectFamily: true }, (res) => {
  res.resume();
  res.on("end", () => process.exit(0));
});
req.on("error", (err) => { console.log("failed:", err.message); process.exit(1); });
req.setTimeout(10000, () => req.destroy(new Error("timeout")));
