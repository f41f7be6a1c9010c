// A scripted client for the course's chat server: it reacts to what the server says, line by line.
import net from 'node:net';

const NAME = 'learner';
const host = process.env.HOST;
const port = Number(process.env.CHAT_PORT);

const socket = net.connect({ host, port });

// The decoder behind setEncoding keeps a character whose bytes arrive in two chunks whole.
socket.setEncoding('utf8');

function send(line: string): void {
  socket.write(`${line}\n`);
}

/** What to do about one complete line from the server. */
function onLine(line: string): void {
  console.log(`< ${line}`);
  if (line === 'Please enter your username:') send(NAME);
  else if (line === `Welcome, ${NAME}!`) {
    send('Hello, everyone!');
    send('/users');
  } else if (line.startsWith('Online users (')) send('/whisper grader Thanks for the Help, Grader!');
  else if (line.startsWith('[whisper from grader]: ')) send('/quit');
}

// TCP delivers bytes, not lines: a chunk may end in the middle of a line, or hold several lines.
// Keep the unfinished rest until its "\n" arrives.
let rest = '';
socket.on('data', (text: string) => {
  const pieces = (rest + text).split('\n');
  rest = pieces.pop() ?? '';
  for (const piece of pieces) onLine(piece.endsWith('\r') ? piece.slice(0, -1) : piece);
});

// After "Goodbye!" the server ends the connection. With the socket closed there is nothing left to
// wait for, and Node ends the program with exit code 0.
socket.on('end', () => {
  if (rest) onLine(rest);
});

socket.on('error', (err) => {
  console.error(`connection error: ${err.message}`);
  process.exitCode = 1;
});
