// UDP programs for lab/udp.sh on Node.js's dgram module.
//   node udp_probe.js server PORT COUNT          echo COUNT datagrams
//   node udp_probe.js client HOST PORT COUNT     a connected socket asks COUNT questions, 0.5 s
//                                                 each, three tries per question
'use strict';
const dgram = require('dgram');
const [cmd, ...args] = process.argv.slice(2);

if (cmd === 'server') {
  const [port, count] = [Number(args[0]), Number(args[1])];
  const s = dgram.createSocket('udp4');
  let n = 0;
  s.on('message', (msg, rinfo) => {
    s.send(Buffer.concat([Buffer.from('re:'), msg]), rinfo.port, rinfo.address, () => {
      if (++n === count) s.close();
    });
  });
  s.bind(port);
} else if (cmd === 'client') {
  const [host, port, count] = [args[0], Number(args[1]), Number(args[2])];
  const s = dgram.createSocket('udp4');
  let i = 0, tries = 0, timer = null, answered = 0;
  const ask = () => {
    if (i === count) { s.close(); console.log(`answered ${answered} of ${count}`); return; }
    if (tries === 3) { i++; tries = 0; return ask(); }
    tries++;
    s.send(Buffer.from(`q${i}`));
    timer = setTimeout(ask, 500);
  };
  s.on('message', () => { clearTimeout(timer); answered++; i++; tries = 0; ask(); });
  s.on('error', (e) => { console.log(`error: ${e.code}`); });
  s.connect(port, host, ask);
}
