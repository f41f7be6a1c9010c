// Bind, listen, connect, and every event along the way,
// with server and client in one program.
import net from 'node:net';
import { once } from 'node:events';

const host = process.env.HOST ?? '127.0.0.1';

// --- server: bind to host:port and listen -----------------------------
const server = net.createServer();
server.on('listening', () => {
  const { address, port } = server.address() as net.AddressInfo;
  console.log(`server: listening on ${address}:${port}`);
});
server.on('error', (err) => console.log(`server: error ${err.message}`));
server.on('close', () => console.log('server: closed'));
server.on('connection', (socket) => {
  const { remoteAddress, remotePort } = socket;
  console.log(`server: connection from ${remoteAddress}:${remotePort}`);
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    console.log(`server: data ${JSON.stringify(text)}`);
    socket.write('pong\n');
  });
  socket.on('end', () => {
    console.log('server: end (the client will send nothing more)');
  });
  socket.on('error', (err) => {
    console.log(`server: socket error ${err.message}`);
  });
  socket.on('close', () => console.log('server: socket closed'));
});

server.listen(Number(process.env.PORT ?? 0), host);
await once(server, 'listening');
const { port } = server.address() as net.AddressInfo;

// listen() reports failure as an 'error' event, not through its callback.
const second = net.createServer();
second.listen(port, host);
const [listenError] = (await once(second, 'error')) as [NodeJS.ErrnoException];
console.log(`second server on the same port: ${listenError.code}`);

// --- client: connect to host:port -------------------------------------
const client = net.connect(port, host);
client.setEncoding('utf8');
client.on('connect', () => {
  console.log(`client: connected from local port ${client.localPort}`);
  client.write('ping\n');
});
client.on('data', (text: string) => {
  console.log(`client: data ${JSON.stringify(text)}`);
  client.end(); // we got our answer: half-close our side
});
client.on('end', () => {
  console.log('client: end (the server will send nothing more)');
});
client.on('error', (err) => console.log(`client: error ${err.message}`));
client.on('close', () => console.log('client: closed'));

await once(client, 'close');
server.close(); // stop accepting; 'close' fires once every connection has ended
await once(server, 'close');

// With nobody listening any more, connecting fails: an 'error' event.
const late = net.connect(port, host);
const [connectError] = (await once(late, 'error')) as [NodeJS.ErrnoException];
console.log(`connecting to a closed port: ${connectError.code}`);
