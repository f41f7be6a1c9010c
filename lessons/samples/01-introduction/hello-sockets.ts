// Your first socket program: talk to the echo server that every run gets.
import net from 'node:net';

const host = process.env.HOST ?? '127.0.0.1';
const echoPort = Number(process.env.ECHO_PORT);

console.log(`HOST is ${host}; an echo server is listening on port ${echoPort}`);

const socket = net.connect(echoPort, host);
socket.setEncoding('utf8'); // give us strings instead of Buffers

socket.on('connect', () => {
  console.log('Connected! Sending a greeting...');
  // end() sends the text, then tells the server "I have nothing more to say".
  socket.end('Hello, sockets!\n');
});

let reply = '';
socket.on('data', (text: string) => {
  reply += text;
});

socket.on('end', () => {
  console.log(`The echo server sent back: ${reply.trim()}`);
});

socket.on('error', (err) => {
  console.log(`Something went wrong: ${err.message}`);
  process.exitCode = 1;
});

socket.on('close', () => {
  console.log('Connection closed. That was a complete conversation over TCP.');
});
