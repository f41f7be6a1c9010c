// A chat client for the run's chat server. In a terminal you would type
// the lines yourself (the lesson shows the three-line change); here a
// short script types them for you.
import net from 'node:net';
import readline from 'node:readline';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.CHAT_PORT);

await startFriend(); // someone to talk to (defined at the bottom)

const socket = net.connect(port, host);

/** Sends one line. The '\n' tells the server where the message ends. */
function send(line: string): void {
  console.log(`> ${line}`);
  socket.write(line + '\n');
}

// What "the user" types once we are in.
const script = [
  '/users',
  'Hello everyone!',
  '/whisper sam Nice To Meet You',
  '/quit',
];
let name = 'kim';
let attempt = 1;

// readline turns the byte stream from the server into whole lines for us.
readline.createInterface({ input: socket }).on('line', (line) => {
  console.log(line);
  if (line === 'Please enter your username:') {
    send(name);
  } else if (line.startsWith('Error: username') && line.endsWith('try another:')) {
    name = `kim${++attempt}`; // taken: pick another one and try again
    send(name);
  } else if (line === `Welcome, ${name}!`) {
    typeScript();
  }
});

function typeScript(): void {
  script.forEach((line, i) => setTimeout(() => send(line), 150 * (i + 1)));
}

socket.on('connect', () => console.log(`(connected to ${host}:${port})`));
// On failure Node emits 'error' and then 'close': report the error in one,
// clean up in the other.
socket.on('error', (err) => console.log(`(connection error: ${err.message})`));
socket.on('close', () => console.log('(disconnected)'));

/** A second user, "sam": greets whoever joins, leaves when they leave. */
async function startFriend(): Promise<void> {
  const friend = net.connect(port, host);
  friend.on('error', (err) => console.log(`(sam: ${err.message})`));
  const welcomed = new Promise<void>((resolve, reject) => {
    // (a reject after resolve is ignored)
    friend.once('close', () => reject(new Error('sam could not join')));
    readline.createInterface({ input: friend }).on('line', (line) => {
      if (line === 'Welcome, sam!') resolve();
      const joined = /^\* (\S+) joined the chat$/.exec(line);
      if (joined) friend.write(`Hi ${joined[1]}, welcome!\n`);
      if (line.endsWith(' left the chat')) friend.end();
    });
  });
  friend.write('sam\n');
  await welcomed;
}
