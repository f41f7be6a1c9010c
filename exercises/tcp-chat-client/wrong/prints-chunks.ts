// Mistake: treats each 'data' event as one line: prints chunks as lines and looks for prompts inside single chunks.
import net from 'node:net';

const socket = net.connect({ host: process.env.HOST, port: Number(process.env.CHAT_PORT) });

socket.on('data', (data: Buffer) => {
  const text = data.toString().trimEnd();
  console.log(`< ${text}`);
  if (text.includes('Please enter your username:')) socket.write('learner\n');
  if (text.includes('Welcome, learner!')) socket.write('Hello, everyone!\n/users\n');
  if (text.includes('Online users (')) socket.write('/whisper grader Thanks for the Help, Grader!\n');
  if (text.includes('[whisper from grader]: ')) socket.write('/quit\n');
});

socket.on('error', (err) => {
  console.error(`connection error: ${err.message}`);
  process.exitCode = 1;
});
