// Requests and replies over one WebSocket, against the run's JSON API server (wsApi): each request
// gets an id, each reply is matched to its request by that id, so replies may come in any order.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { WebSocket } from 'ws';

type Reply = { id: string | null; ok: true; result: unknown } | { id: string | null; ok: false; error: string };

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** A request/reply client: request() sends one request and resolves with its own reply's result. */
class ApiClient {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const reply = JSON.parse(data.toString()) as Reply;
      const waiting = reply.id === null ? undefined : this.pending.get(reply.id);
      if (!waiting) return console.log(`  (a reply no request is waiting for: ${data.toString()})`);
      this.pending.delete(reply.id!);
      clearTimeout(waiting.timer);
      if (reply.ok) waiting.resolve(reply.result);
      else waiting.reject(new Error(reply.error));
    });
    // No reply will come over a closed connection: fail whatever is still waiting, once.
    ws.on('close', () => {
      for (const [id, waiting] of this.pending) {
        clearTimeout(waiting.timer);
        waiting.reject(new Error('the connection closed before the reply came'));
        this.pending.delete(id);
      }
    });
  }

  request(op: string, args: Record<string, unknown> = {}, timeoutMs = 2000): Promise<unknown> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ id, op, ...args }));
    });
  }
}

const ws = new WebSocket(`ws://${process.env.HOST}:${process.env.WS_API_PORT}/`);
ws.on('error', (err) => console.error(`error: ${err.message}`));
await once(ws, 'open');
const api = new ApiClient(ws);

// Three requests at once; log each result the moment it arrives.
let arrived = 0;
const log = (what: string) => (result: unknown) => {
  console.log(`reply ${++arrived}: ${what} -> ${JSON.stringify(result)}`);
  return result;
};
const results = await Promise.all([
  api.request('slow', { ms: 300 }).then(log('slow 300 ms')),
  api.request('add', { a: 2, b: 40 }).then(log('add 2 + 40')),
  api.request('upper', { text: 'ça marche' }).then(log('upper "ça marche"')),
]);
console.log(`in request order: ${JSON.stringify(results)}`);

// An error reply rejects only its own request; the connection stays open.
await api.request('divide', { a: 1, b: 0 }).catch((err: Error) => console.log(`divide -> error: ${err.message}`));
console.log(`still open after the error: ${ws.readyState === WebSocket.OPEN}`);

ws.close(1000, 'done');
const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
console.log(`closed: ${code} ${reason.toString()}`);
