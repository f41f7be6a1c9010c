// Mistake: exits as soon as the line is written, before any reply can arrive.
import net from 'node:net';

const socket = net.connect({ host: process.env.HOST, port: Number(process.env.ECHO_PORT) }, () => {
  socket.write(`hello from port ${socket.localPort}\n`, () => {
    socket.destroy();
    process.exit(0);
  });
});
socket.on('data', (data: Buffer) => console.log(`received: ${data.toString().trimEnd()}`));
socket.on('error', (err) => {
  console.error(err.message);
  process.exitCode = 1;
});
