// Mistake: frames lines, but decodes each chunk with toString(), so a character split between chunks is printed as "\uFFFD".
import net from 'node:net';

const socket = net.connect({ host: process.env.HOST, port: Number(process.env.CHAT_PORT) });

function send(line: string): void {
  socket.write(`${line}\n`);
}

let rest = '';
socket.on('data', (data: Buffer) => {
  const lines = (rest + data.toString()).split('\n');
  rest = lines.pop() ?? '';
  for (const line of lines) {
    console.log(`< ${line}`);
    if (line === 'Please enter your username:') send('learner');
    else if (line === 'Welcome, learner!') {
      send('Hello, everyone!');
      send('/users');
    } else if (line.startsWith('Online users (')) send('/whisper grader Thanks for the Help, Grader!');
    else if (line.startsWith('[whisper from grader]: ')) send('/quit');
  }
});

socket.on('error', (err) => {
  console.error(`connection error: ${err.message}`);
  process.exitCode = 1;
});
