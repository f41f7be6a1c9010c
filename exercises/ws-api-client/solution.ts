// A client of the course's WebSocket JSON API: sends six requests at once, matches each reply to
// its request by id (the replies come back in another order), prints one line per request in the
// order the requests were sent, then closes with 1000 "done" and ends once the close completed.
import { WebSocket } from 'ws';

type Request = { op: string } & Record<string, unknown>;
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

const REQUESTS: Request[] = [
  { op: 'slow', ms: 400 },
  { op: 'add', a: 2, b: 40 },
  { op: 'upper', text: 'héllo, wörld ✓' },
  { op: 'time' },
  { op: 'add', a: 1, b: 'two' },
  { op: 'slow', ms: 100 },
];

const ws = new WebSocket(`ws://${process.env.HOST}:${process.env.WS_API_PORT}/`);
/** Replies by request id; the ids are the requests' positions, 1 to 6, unique within this connection. */
const replies = new Map<number, Reply>();
/** How many lines are printed: line n can be printed only once lines 1 to n-1 are. */
let printed = 0;

ws.on('open', () => {
  // All at once, without waiting: the server works on them together.
  REQUESTS.forEach((request, i) => ws.send(JSON.stringify({ id: i + 1, ...request })));
});

ws.on('message', (data, isBinary) => {
  if (isBinary) return console.error('ignored a binary message');
  // A text message comes as one Buffer in ws 8 (binaryType only affects binary ones), however many frames it took.
  const reply = JSON.parse(data.toString()) as Reply;
  replies.set(reply.id, reply);
  printReady();
  if (printed === REQUESTS.length) ws.close(1000, 'done');
});

/** Prints, in request order, every line whose reply and earlier lines are all there. */
function printReady(): void {
  while (printed < REQUESTS.length && replies.has(printed + 1)) {
    const reply = replies.get(printed + 1)!;
    const op = REQUESTS[printed].op;
    printed++;
    console.log(reply.ok ? `${printed} ${op} ok ${JSON.stringify(reply.result)}` : `${printed} ${op} error ${reply.error}`);
  }
}

// The server answered our close frame (or the connection ended): the reason is a Buffer in ws 8.
ws.on('close', (code, reason) => {
  console.log(`closed ${code} ${reason.toString()}`);
});

ws.on('error', (err) => {
  console.error(`WebSocket error: ${err.message}`);
  process.exitCode = 1;
});
