// The mistake: the connection is never closed. The program prints the right line, but the open
// socket keeps Node waiting, so it never ends by itself.
import net from 'node:net';

const host = process.env.HOST;
const port = Number(process.env.ECHO_PORT);

const socket = net.connect({ host, port }, () => {
  socket.write('ping\n');
});

socket.setEncoding('utf8');
let reply = '';
socket.on('data', (text: string) => {
  reply += text;
  const newline = reply.indexOf('\n');
  if (newline === -1) return;
  console.log(`got: ${reply.slice(0, newline)}`);
});

socket.on('error', (err) => {
  console.error(`connection failed: ${err.message}`);
  process.exitCode = 1;
});
