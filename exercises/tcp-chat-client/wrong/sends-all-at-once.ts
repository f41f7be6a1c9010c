// Mistake: sends the whole script as soon as it connects instead of answering the server's lines one by one.
import net from 'node:net';

const socket = net.connect({ host: process.env.HOST, port: Number(process.env.CHAT_PORT) }, () => {
  for (const line of ['learner', 'Hello, everyone!', '/users', '/whisper grader Thanks for the Help, Grader!', '/quit']) {
    socket.write(`${line}\n`);
  }
});
socket.setEncoding('utf8');

let rest = '';
socket.on('data', (text: string) => {
  const lines = (rest + text).split('\n');
  rest = lines.pop() ?? '';
  for (const line of lines) console.log(`< ${line}`);
});

socket.on('error', (err) => {
  console.error(`connection error: ${err.message}`);
  process.exitCode = 1;
});
