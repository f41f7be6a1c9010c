import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT);

interface Client {
  ws: WebSocket;
  metrics: Set<string>;
}

/** The latest value of every metric that has one. */
const latest = new Map<string, unknown>();
const clients = new Set<Client>();

const wss = new WebSocketServer({ port });

wss.on('connection', (ws: WebSocket) => {
  const client: Client = { ws, metrics: new Set() };
  clients.add(client);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    // TODO: parse the request (answer anything invalid with {"type":"error","message":…});
    //       publish -> store the value, answer "published";
    //       subscribe -> add the metrics, answer at once with a snapshot of their current values;
    //       unsubscribe -> remove them, answer "unsubscribed".
  });
  ws.on('close', () => clients.delete(client));
  ws.on('error', (err) => console.error(`client error: ${err.message}`));
});

// TODO: one timer, every 100 ms: tick number + 1, then a tick to every client subscribed to
//       something, skipping any client with more than 64 KiB queued (ws.bufferedAmount).
// TODO: a heartbeat, every 1000 ms: terminate a client that left the last two pings unanswered, ping the others.

wss.on('listening', () => console.log(`dashboard listening on port ${port}`));
