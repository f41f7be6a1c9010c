// Mistake: prints the line it sent instead of waiting for the server's reply.
import net from 'node:net';

const socket = net.connect({ host: process.env.HOST, port: Number(process.env.ECHO_PORT) }, () => {
  const line = `hello from port ${socket.localPort}`;
  socket.write(`${line}\n`);
  console.log(`received: ${line}`); // the echo server sends the same text back anyway... right?
  socket.end();
});
socket.resume(); // read (and ignore) the reply so the connection can close
socket.on('error', (err) => {
  console.error(err.message);
  process.exitCode = 1;
});
