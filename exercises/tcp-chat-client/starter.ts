// A scripted client for the course's chat server. See the instructions for the script.
import net from 'node:net';

const socket = net.connect({ host: process.env.HOST, port: Number(process.env.CHAT_PORT) });

socket.on('data', (data: Buffer) => {
  // TODO: this prints whatever arrived, which is not always one whole line.
  //       Collect the text into complete lines, print each as "< <line>",
  //       and answer the lines the script reacts to.
  console.log(`< ${data.toString()}`);
});

socket.on('error', (err) => {
  console.error(`connection error: ${err.message}`);
  process.exitCode = 1;
});
