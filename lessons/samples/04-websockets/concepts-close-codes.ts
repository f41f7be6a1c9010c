// Close codes as each side reports them: what a client closed with, what the server closed with,
// and the two codes that are never sent (1005: a close frame without a code, 1006: no close frame).
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

const host = process.env.HOST ?? '127.0.0.1';
const wss = new WebSocketServer({ host, port: Number(process.env.PORT ?? 0) });
let serverCloses = 0;

wss.on('connection', (ws, request) => {
  const name = request.url?.slice(1) ?? '?';
  ws.on('error', () => {}); // 1007 below comes with an 'error'
  ws.on('close', (code: number, reason: Buffer) => {
    console.log(`server sees ${name}: ${code} "${reason.toString()}"`);
    if (++serverCloses === 5) wss.close(); // all five done: the program can end
  });
  // The server ends this one itself, with an application code (4000-4999 are yours).
  if (name === 'kicked') ws.close(4003, 'not allowed in this room');
});
await once(wss, 'listening');
const { port } = wss.address() as AddressInfo;

/** Opens a connection named by its path, runs `end` on it, and waits until it is closed. */
async function run(name: string, end: (ws: WebSocket) => void): Promise<void> {
  const ws = new WebSocket(`ws://${host}:${port}/${name}`);
  ws.on('error', () => {});
  await once(ws, 'open');
  const closed = once(ws, 'close') as Promise<[number, Buffer]>;
  end(ws);
  const [code, reason] = await closed;
  console.log(`client ${name} sees: ${code} "${reason.toString()}"`);
}

await run('polite', (ws) => ws.close(1000, 'bye')); // the server answers with the same code
await run('kicked', () => {}); // the server closes it
await run('no-code', (ws) => ws.close()); // a close frame without a code: 1005 on the other side
// Invalid UTF-8 in a text message: ws closes it with 1007 and stops reading, so the server
// never sees the client's answering close frame and reports 1006 on its side.
await run('bad-utf8', (ws) => ws.send(Buffer.from([0xc3, 0x28]), { binary: false }));
await run('vanished', (ws) => ws.terminate()); // no close frame at all: 1006
