import net from 'node:net';

const host = process.env.HOST;
const port = Number(process.env.ECHO_PORT);

const socket = net.connect({ host, port }, () => {
  console.log(`connected to ${host}:${port}`);
  // TODO: send the line "ping\n".
});

// TODO: collect the reply until it holds a whole line, print `got: <the line>`,
//       then close the connection with socket.end().

socket.on('error', (err) => {
  console.error(`connection failed: ${err.message}`);
  process.exitCode = 1;
});
