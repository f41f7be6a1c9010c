// What a client that stops reading does to a broadcaster, and the cure: look at bufferedAmount
// before each send and skip a client that has too much queued. Two subscribers, one of which stops
// reading; every tick carries 256 KiB, so the stuck one's buffers fill within a few dozen ticks.
import net from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

const TICKS = 60;
const SLOW_BYTES = 64 * 1024;
const payload = 'x'.repeat(256 * 1024);

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
const skipped = new Map<WebSocket, number>();
/** The server's side of each connection, in the order they came: fast, then slow. */
const connections: WebSocket[] = [];
wss.on('connection', (ws) => connections.push(ws));
let peak = 0;

function broadcast(tick: number): void {
  const message = JSON.stringify({ type: 'tick', tick, payload });
  for (const ws of wss.clients) {
    peak = Math.max(peak, ws.bufferedAmount);
    if (ws.bufferedAmount > SLOW_BYTES) {
      skipped.set(ws, (skipped.get(ws) ?? 0) + 1);
      continue;
    }
    ws.send(message);
  }
}

/** A client over a socket we can pause: a paused socket is a client that stopped reading. */
async function subscriber(port: number, name: string) {
  const socket = net.connect(port, '127.0.0.1');
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { createConnection: () => socket });
  const ticks: number[] = [];
  ws.on('message', (data) => ticks.push(JSON.parse(data.toString()).tick));
  await new Promise((resolve) => ws.once('open', resolve));
  return { name, ws, socket, ticks };
}

wss.on('listening', async () => {
  const { port } = wss.address() as { port: number };
  const fast = await subscriber(port, 'fast');
  const slow = await subscriber(port, 'slow');
  while (connections.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  slow.socket.pause();
  for (let tick = 1; tick <= TICKS; tick++) {
    broadcast(tick);
    await new Promise((resolve) => setTimeout(resolve, 5)); // let the sockets write between ticks
  }
  while (fast.ticks.length < TICKS) await new Promise((resolve) => setTimeout(resolve, 5));
  const [fastSide, slowSide] = connections;
  console.log(`fast: got ${fast.ticks.length} of ${TICKS} ticks, skipped ${skipped.get(fastSide) ?? 0}`);
  console.log(`slow: skipped ${skipped.get(slowSide) ?? 0} ticks; at most ${Math.round(peak / 1024)} KiB was ever queued for it (without skipping: ${(TICKS * payload.length) / 1024 / 1024} MiB)`);
  slow.socket.resume();
  // Once it has read what was queued, the next tick reaches it: the latest one, not the backlog.
  while (slowSide.bufferedAmount > SLOW_BYTES) await new Promise((resolve) => setTimeout(resolve, 5));
  broadcast(TICKS + 1);
  while (slow.ticks.at(-1) !== TICKS + 1) await new Promise((resolve) => setTimeout(resolve, 5));
  console.log(`slow: caught up with tick ${TICKS + 1} after reading ${slow.ticks.length - 1} queued ticks`);
  for (const c of [fast, slow]) c.ws.close();
  wss.close();
});
