// Mistake: passes the Buffer itself to console.log, which prints <Buffer 68 65 …> instead of the text.
import net from 'node:net';

const socket = net.connect({ host: process.env.HOST, port: Number(process.env.ECHO_PORT) }, () => {
  socket.write(`hello from port ${socket.localPort}\n`);
});
socket.on('data', (data: Buffer) => {
  console.log('received:', data);
  socket.end();
});
socket.on('error', (err) => {
  console.error(err.message);
  process.exitCode = 1;
});
