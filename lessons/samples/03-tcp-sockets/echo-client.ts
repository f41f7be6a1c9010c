// A TCP client for the run's echo server: connect, send two messages, read until the server is done.
import net from 'node:net';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.ECHO_PORT);

const socket = net.connect({ host, port });
socket.setEncoding('utf8');
socket.setTimeout(2000); // no activity for 2 s? we will give up instead of hanging

socket.on('connect', () => {
  console.log(`connected to ${host}:${port} from local port ${socket.localPort}`);
  socket.write('Hello from the client!\n');
  socket.write('This is a second message\n');
  // Half-close: "I am done sending". The echo server answers the same way once it has
  // echoed everything, so the 'end' event below means "the whole reply is here".
  socket.end();
});

let reply = '';
socket.on('data', (text: string) => {
  reply += text; // a chunk, not necessarily a whole message, so collect
});

socket.on('end', () => {
  for (const line of reply.split('\n').filter(Boolean)) console.log(`server says: ${line}`);
});

socket.on('timeout', () => {
  console.log('no answer in time, giving up');
  socket.destroy();
});

socket.on('error', (err) => {
  console.log(`connection failed: ${err.message}`); // e.g. ECONNREFUSED if nobody listens
  process.exitCode = 1;
});

socket.on('close', (hadError) => {
  console.log(`connection closed${hadError ? ' after an error' : ''}`);
});
