// Mistake: sends the text without "\n", then waits for a whole line that never comes back.
import net from 'node:net';

const socket = net.connect({ host: process.env.HOST, port: Number(process.env.ECHO_PORT) }, () => {
  socket.write(`hello from port ${socket.localPort}`);
});
socket.setEncoding('utf8');
let reply = '';
socket.on('data', (text: string) => {
  reply += text;
  const nl = reply.indexOf('\n');
  if (nl === -1) return;
  console.log(`received: ${reply.slice(0, nl)}`);
  socket.end();
});
socket.on('error', (err) => {
  console.error(err.message);
  process.exitCode = 1;
});
