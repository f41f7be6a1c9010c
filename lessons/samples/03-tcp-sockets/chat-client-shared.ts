// Joins the course's shared chat (its Run is pointed at the chat the terminal above shows): picks a
// free name, says hello, asks who is online, listens for a moment, and leaves.
import net from 'node:net';
import readline from 'node:readline';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.CHAT_PORT);
const socket = net.connect(port, host);

function send(line: string): void {
  console.log(`> ${line}`);
  socket.write(line + '\n');
}

// Others may be using "kim" already: a short random suffix, and another one if it is taken.
const pickName = () => `kim-${Math.random().toString(36).slice(2, 6)}`;
let name = pickName();

readline.createInterface({ input: socket }).on('line', (line) => {
  console.log(line);
  if (line === 'Please enter your username:' || (line.startsWith('Error: username') && line.endsWith('try another:'))) {
    if (line.startsWith('Error')) name = pickName();
    send(name);
  } else if (line === `Welcome, ${name}!`) {
    send('Hello from a Run in the lesson!');
    send('/users');
    setTimeout(() => send('/quit'), 1500); // a moment to hear the others
  }
});

socket.on('error', (err) => console.log(`(connection error: ${err.message})`));
socket.on('close', () => console.log('(left the chat)'));
