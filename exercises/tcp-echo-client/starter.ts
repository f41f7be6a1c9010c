import net from 'node:net';

const host = process.env.HOST;
const port = Number(process.env.ECHO_PORT);

const socket = net.connect({ host, port }, () => {
  console.log(`connected to ${host}:${port} from local port ${socket.localPort}`);
  // TODO: send the line `hello from port <P>\n` (P is socket.localPort).
});

// TODO: collect the reply until it holds a whole line, print `received: <line>`,
//       then close the connection with socket.end().

socket.on('error', (err) => {
  console.error(`connection failed: ${err.message}`);
  process.exitCode = 1;
});
