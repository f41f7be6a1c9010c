// Requests and replies from a web page: the browser's WebSocket talks to the course's shared JSON
// API server. Each request gets an id; each reply finds its request's row by that id, whatever
// order the replies come back in. liveUrl('wsApi') is ws://<this site>/live/wsApi (wss:// on an
// https site); on a page of your own you would build it from location.host.
const socket = new WebSocket(liveUrl('wsApi'));

const requests = [
  { op: 'slow', ms: 500 },
  { op: 'add', a: 2, b: 40 },
  { op: 'upper', text: 'héllo <b>not bold</b> ✓' },
  { op: 'time' },
  { op: 'divide', a: 1, b: 0 },
];

const table = document.createElement('ol');
document.body.append(table);
/** Each request's row on the page, by the id sent with it. */
const rows = new Map();
// A counter is enough: ids only need to be unique on this connection. (crypto.randomUUID() would
// do too, but browsers offer it only in secure contexts: https pages and localhost.)
let nextId = 1;

socket.addEventListener('open', () => {
  for (const request of requests) {
    const id = nextId++;
    const row = document.createElement('li');
    row.textContent = `${JSON.stringify(request)} … waiting`;
    table.append(row);
    rows.set(id, { row, request });
    socket.send(JSON.stringify({ id, ...request }));
  }
  console.log(`sent ${requests.length} requests at once, ids ${[...rows.keys()].join(', ')}`);
});

let arrived = 0;
socket.addEventListener('message', (event) => {
  // A text message: event.data is a string here (ws in Node gives a Buffer).
  const reply = JSON.parse(event.data);
  const entry = rows.get(reply.id);
  if (!entry) return console.warn('a reply for no request of ours:', event.data);
  rows.delete(reply.id);
  const outcome = reply.ok ? `= ${JSON.stringify(reply.result)}` : `error: ${reply.error}`;
  // textContent: the result of "upper" holds markup, shown as text, never parsed.
  entry.row.textContent = `${JSON.stringify(entry.request)} ${outcome} (reply ${++arrived})`;
  console.log(`reply ${arrived}: ${entry.request.op} ${outcome}`);
  if (rows.size === 0) socket.close(1000, 'done');
});

socket.addEventListener('error', () => console.error('the connection failed'));
socket.addEventListener('close', (event) => {
  console.log(`closed with code ${event.code}, reason "${event.reason}", clean: ${event.wasClean}`);
});
