// Small Node.js socket programs for the netcheck matrix lab, one role per invocation.
//
// Usage: node --jitless nodeprobe.js ROLE ARGS...
//
// Node (libuv) connects nonblocking and learns the result through getsockopt(SO_ERROR), and serves
// from an epoll loop. Only built-in modules are used; every wait is bounded or ended by the lab's
// signal.
'use strict';
const net = require('net');
const dgram = require('dgram');
const http = require('http');

const say = (...words) => process.stderr.write(words.join(' ') + '\n');
const hostPort = (s) => {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i).replace(/^\[|\]$/g, ''), Number(s.slice(i + 1))];
};

const roles = {
  // http-get URL [TIMEOUT]
  'http-get': (url, timeout = '5') => {
    const req = http.get(url, { agent: false, timeout: Number(timeout) * 1000 }, (res) => {
      let n = 0;
      res.on('data', (d) => { n += d.length; });
      res.on('end', () => say('status', res.statusCode, 'bytes', n));
    });
    req.on('timeout', () => { say('timed out'); req.destroy(); });
    req.on('error', (e) => { say('get failed:', e.code || e.message); process.exitCode = 1; });
  },
  // http-post URL SIZE [TIMEOUT]
  'http-post': (url, size, timeout = '5') => {
    const body = 'p'.repeat(Number(size));
    const req = http.request(url, { method: 'POST', agent: false, timeout: Number(timeout) * 1000,
      headers: { 'Content-Length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => say('status', res.statusCode));
    });
    req.on('timeout', () => { say('timed out'); req.destroy(); });
    req.on('error', (e) => { say('post failed:', e.code || e.message); process.exitCode = 1; });
    req.end(body);
  },
  // http-server HOST PORT
  'http-server': (host, port) => {
    http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'close' });
        res.end('hello from the netcheck lab\n');
      });
    }).listen(Number(port), host);
  },
  // tcp-send HOST:PORT MESSAGE [TIMEOUT]: send, half-close, read until EOF or TIMEOUT
  'tcp-send': (addr, message, timeout = '3') => {
    const [host, port] = hostPort(addr);
    const s = net.connect({ host, port, allowHalfOpen: true }, () => s.end(message + '\n'));
    s.setTimeout(Number(timeout) * 1000, () => { say('timed out'); s.destroy(); });
    s.on('data', (d) => say('reply', d.toString().trim()));
    s.on('error', (e) => { say('connect/read failed:', e.code || e.message); process.exitCode = 1; });
  },
  // echo-server HOST PORT
  'echo-server': (host, port) => {
    net.createServer((c) => {
      c.on('data', (d) => c.write(d));
      c.on('end', () => c.end());
      c.on('error', (e) => say('connection error:', e.code));
    }).listen(Number(port), host);
  },
  // listen-only HOST PORT SECONDS: listens, never accepts (the listener is paused at once)
  'listen-only': (host, port, seconds) => {
    const server = net.createServer();
    server.listen({ host, port: Number(port), backlog: 8 }, () => {
      server._handle.onconnection = () => {};
      server._handle.readStop && server._handle.readStop();
    });
    setTimeout(() => process.exit(0), Number(seconds) * 1000);
  },
  // udp-send HOST:PORT SIZE...: one datagram per size, 0.1 s apart
  'udp-send': (addr, ...sizes) => {
    const [host, port] = hostPort(addr);
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    let i = 0;
    const next = () => {
      if (i >= sizes.length) { s.close(); return; }
      const size = Number(sizes[i++]);
      const payload = Buffer.from(('size ' + String(size).padStart(5, '0') + ' ').padEnd(size, '-').slice(0, size));
      s.send(payload, port, host, (e) => { if (e) say('send failed:', e.code); setTimeout(next, 100); });
    };
    next();
  },
  // udp-client HOST:PORT COUNT SIZE: each datagram waits up to 1 s for its echo
  'udp-client': (addr, count, size) => {
    const [host, port] = hostPort(addr);
    const s = dgram.createSocket('udp4');
    let i = 0;
    let timer = null;
    const next = () => {
      clearTimeout(timer);
      if (i >= Number(count)) { s.close(); return; }
      const payload = Buffer.from(('dgram ' + String(i++).padStart(3, '0') + ' ').padEnd(Number(size), '.'));
      s.send(payload, port, host);
      timer = setTimeout(next, 1000);
    };
    s.on('message', () => setTimeout(next, 50));
    next();
  },
  // bulk-client HOST:PORT SIZE: hello, its echo, then SIZE bytes in 1400-byte writes; waits until
  // a signal ends it
  'bulk-client': (addr, size) => {
    const [host, port] = hostPort(addr);
    const s = net.connect({ host, port }, () => s.write('hello\n'));
    let greeted = false;
    s.on('data', () => {
      if (greeted) return;
      greeted = true;
      const block = 'x'.repeat(1400);
      for (let sent = 0; sent < Number(size); sent += block.length) s.write(block);
    });
    s.on('error', (e) => say('bulk failed:', e.code));
  },
};

const [role, ...args] = process.argv.slice(2);
if (!roles[role]) {
  say('roles:', Object.keys(roles).join(' '));
  process.exit(2);
}
roles[role](...args);
