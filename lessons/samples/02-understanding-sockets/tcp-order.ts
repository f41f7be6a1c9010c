// TCP keeps the order of the bytes, not the boundaries of your write() calls.
import net from 'node:net';

const host = process.env.HOST ?? '127.0.0.1';
const socket = net.connect(Number(process.env.ECHO_PORT), host);
socket.setEncoding('utf8');

socket.on('connect', () => {
  // Three separate writes...
  socket.write('Hello');
  socket.write('World');
  socket.write('!');
  socket.end(); // done sending; the echo server will finish too
});

// ...but the receiver sees chunks, and how many is up to the network
// and the operating system.
const chunks: string[] = [];
socket.on('data', (chunk: string) => {
  chunks.push(chunk);
  console.log(`data event ${chunks.length}: ${JSON.stringify(chunk)}`);
});

socket.on('end', () => {
  console.log(`3 writes became ${chunks.length} data event(s)`);
  console.log(`all bytes, in order: ${JSON.stringify(chunks.join(''))}`);
});

socket.on('error', (err) => {
  console.log(`error: ${err.message}`);
  process.exitCode = 1;
});
