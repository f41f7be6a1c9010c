// Habits of a well-behaved TCP server: idle timeouts, correct stats, and
// a graceful shutdown.
import net from 'node:net';
import readline from 'node:readline';
import { once } from 'node:events';

const host = process.env.HOST ?? '127.0.0.1';
const IDLE_MS = 300; // real servers use minutes; short for a quick demo
const GRACE_MS = 500; // how long shutdown waits before cutting clients off

const sockets = new Set<net.Socket>();
let listeningSince = 0;

const server = net.createServer((socket) => {
  sockets.add(socket);
  socket.write('Hello! Say something now and then, or you will be disconnected.\n');
  socket.resume(); // this demo ignores what clients say, but must still read it
  socket.setTimeout(IDLE_MS); // 'timeout' only tells us; closing is our job
  socket.on('timeout', () => {
    if (socket.writable) socket.end('Idle for too long, goodbye!\n');
    else socket.destroy(); // we said goodbye already and they are still here
  });
  socket.on('error', (err) => console.log(`server: ${err.message}`));
  socket.on('close', () => sockets.delete(socket));
});
server.on('listening', () => (listeningSince = Date.now()));
server.on('error', (err) => console.log(`server error: ${err.message}`));

function stats() {
  return {
    connections: sockets.size,
    // The guide computes `Date.now() - this.server.listening ? Date.now() : 0`:
    // it subtracts a boolean from a number before the ?: is even looked at.
    // Say what you mean:
    uptimeMs: server.listening ? Date.now() - listeningSince : 0,
  };
}

let stopping: Promise<void> | undefined;
function stop(reason: string): Promise<void> {
  stopping ??= (async () => {
    const open = sockets.size;
    console.log(`server: shutting down (${reason}) with ${open} open connection(s)`);
    server.close(); // stop accepting new connections
    const allClosed = [...sockets].map(
      (socket) => new Promise((resolve) => socket.once('close', resolve)),
    );
    for (const socket of sockets) {
      if (socket.writable) socket.end('Server is shutting down, goodbye!\n');
    }
    const force = setTimeout(() => {
      const left = sockets.size;
      console.log(`server: ${left} connection(s) did not close in time, cutting them off`);
      for (const socket of sockets) socket.destroy();
    }, GRACE_MS);
    await Promise.all(allClosed);
    clearTimeout(force);
    console.log('server: closed');
  })();
  return stopping;
}
// In a real program, Ctrl+C or a container's stop signal takes the same path.
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));

server.listen(Number(process.env.PORT ?? 0), host);
await once(server, 'listening');
const { port } = server.address() as net.AddressInfo;

/** A demo client: prints what it gets; if `talks`, it writes every 100 ms. */
function connect(name: string, talks: boolean, allowHalfOpen = false): void {
  const socket = net.connect({ port, host, allowHalfOpen });
  socket.on('error', (err) => console.log(`${name}: ${err.message}`));
  readline.createInterface({ input: socket }).on('line', (line) => {
    console.log(`${name} <- ${line}`);
  });
  const ticker = talks
    ? setInterval(() => socket.write('still here\n'), 100)
    : undefined;
  socket.on('close', () => {
    clearInterval(ticker);
    console.log(`${name}: disconnected`);
  });
}

function printStats(): void {
  const { connections, uptimeMs } = stats();
  console.log(`stats: ${connections} connection(s), up for ${uptimeMs} ms`);
}

connect('chatty', true);
connect('sleepy', false); // the idle timeout will close this one
connect('stubborn', true, true); // allowHalfOpen: ignores the server's goodbye

await new Promise((resolve) => setTimeout(resolve, 200));
printStats();
await new Promise((resolve) => setTimeout(resolve, 300));
await stop('end of demo');
printStats();
