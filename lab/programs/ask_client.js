// Sends one line and waits for the answer or the end of the connection (lab/killed.sh).
const net = require('net');
const [host, port] = process.argv.slice(2);
const sock = net.connect(Number(port), host, () => sock.write('hello\n'));
sock.on('data', (d) => process.stdout.write(d));
sock.on('end', () => { console.log('end of stream'); sock.end(); });
sock.on('error', (e) => { console.log(e.code); process.exit(1); });
