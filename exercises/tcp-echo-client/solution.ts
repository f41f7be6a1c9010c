import net from 'node:net';

const host = process.env.HOST;
const port = Number(process.env.ECHO_PORT);

const socket = net.connect({ host, port }, () => {
  // The OS picked a free local port for our end of the connection when it connected.
  socket.write(`hello from port ${socket.localPort}\n`);
});

// Strings instead of Buffers. The decoder inside also keeps a character whose bytes arrive in two
// chunks whole, which toString() on each chunk would not.
socket.setEncoding('utf8');

let reply = '';
let done = false;
socket.on('data', (text: string) => {
  if (done) return;
  // A 'data' event holds whatever bytes have arrived so far: maybe part of the line, so collect.
  reply += text;
  const newline = reply.indexOf('\n');
  if (newline === -1) return;
  done = true;
  console.log(`received: ${reply.slice(0, newline)}`);
  // "I am done sending." The server closes its side in turn; then the socket emits 'close' and,
  // with nothing left to wait for, Node ends the program with exit code 0.
  socket.end();
});

socket.on('close', () => {
  if (done) return;
  console.error('the connection closed before a whole line came back');
  process.exitCode = 1;
});

socket.on('error', (err) => {
  console.error(`connection failed: ${err.message}`);
  process.exitCode = 1;
});
