// Mistake: prints the reply but never closes the connection, so the program never ends.
import net from 'node:net';

const socket = net.connect({ host: process.env.HOST, port: Number(process.env.ECHO_PORT) }, () => {
  socket.write(`hello from port ${socket.localPort}\n`);
});
socket.setEncoding('utf8');
let reply = '';
socket.on('data', (text: string) => {
  reply += text;
  if (reply.endsWith('\n')) console.log(`received: ${reply.trimEnd()}`);
});
socket.on('error', (err) => {
  console.error(err.message);
  process.exitCode = 1;
});
