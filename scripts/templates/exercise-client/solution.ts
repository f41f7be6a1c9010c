import net from 'node:net';

const host = process.env.HOST;
const port = Number(process.env.ECHO_PORT);

const socket = net.connect({ host, port }, () => {
  socket.write('ping\n');
});

socket.setEncoding('utf8');
let reply = '';
socket.on('data', (text: string) => {
  // A 'data' event holds whatever has arrived so far: maybe only part of the line.
  reply += text;
  const newline = reply.indexOf('\n');
  if (newline === -1) return;
  console.log(`got: ${reply.slice(0, newline)}`);
  socket.end();
});

socket.on('error', (err) => {
  console.error(`connection failed: ${err.message}`);
  process.exitCode = 1;
});
