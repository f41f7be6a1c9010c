// A TCP client for the run's echo server: connect, send two messages,
// and read until the server is done.
import net from 'node:net';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.ECHO_PORT);

const socket = net.connect({ host, port });
socket.setEncoding('utf8');
socket.setTimeout(2000); // 2 s without traffic? give up instead of hanging

socket.on('connect', () => {
  console.log(`connected to ${host}:${port} from local port ${socket.localPort}`);
  socket.write('Hello from the client!\n');
  socket.write('This is a second message\n');
  // Half-close: "I am done sending". The echo server does the same once
  // it has echoed everything, so 'end' means "the whole reply is here".
  socket.end();
});

let reply = '';
socket.on('data', (text: string) => {
  reply += text; // a chunk, not necessarily a whole message: collect
});

socket.on('end', () => {
  for (const line of reply.split('\n').filter(Boolean)) {
    console.log(`server says: ${line}`);
  }
});

socket.on('timeout', () => {
  console.log('no answer in time, giving up');
  socket.destroy();
});

socket.on('error', (err) => {
  // e.g. ECONNREFUSED when nothing listens on the port
  console.log(`connection failed: ${err.message}`);
  process.exitCode = 1;
});

socket.on('close', (hadError) => {
  console.log(`connection closed${hadError ? ' after an error' : ''}`);
});
