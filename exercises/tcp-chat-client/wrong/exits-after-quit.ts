// Mistake: exits right after writing "/quit" instead of waiting for "Goodbye!" and the server closing the connection.
import net from 'node:net';

const socket = net.connect({ host: process.env.HOST, port: Number(process.env.CHAT_PORT) });
socket.setEncoding('utf8');

function send(line: string): void {
  socket.write(`${line}\n`);
}

let rest = '';
socket.on('data', (text: string) => {
  const lines = (rest + text).split('\n');
  rest = lines.pop() ?? '';
  for (const line of lines) {
    console.log(`< ${line}`);
    if (line === 'Please enter your username:') send('learner');
    else if (line === 'Welcome, learner!') {
      send('Hello, everyone!');
      send('/users');
    } else if (line.startsWith('Online users (')) send('/whisper grader Thanks for the Help, Grader!');
    else if (line.startsWith('[whisper from grader]: ')) {
      socket.write('/quit\n', () => process.exit(0));
    }
  }
});

socket.on('error', (err) => {
  console.error(`connection error: ${err.message}`);
  process.exitCode = 1;
});
