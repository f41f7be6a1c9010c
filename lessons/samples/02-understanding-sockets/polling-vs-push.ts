// Polling vs. push, measured. A "kitchen" announces three orders.
// One client polls an HTTP endpoint every 250 ms; another keeps one TCP
// connection open and is told the moment something happens.
import http from 'node:http';
import net from 'node:net';
import readline from 'node:readline';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

const host = process.env.HOST ?? '127.0.0.1';
const POLL_EVERY_MS = 250;
const READY_AT_MS = [120, 480, 830];

interface News {
  text: string;
  at: number; // ms since start, when it happened
}

const started = performance.now();
const now = () => performance.now() - started;
const news: News[] = [];
const listeners = new Set<net.Socket>();

// --- the server side --------------------------------------------------
// HTTP: the client asks "anything after item N?" and gets a list
// (often an empty one).
const httpServer = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const since = Number(url.searchParams.get('since') ?? 0);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(news.slice(since)));
});

// TCP: every connected client gets each item as one JSON line, as soon
// as it exists.
const pushServer = net.createServer((socket) => {
  listeners.add(socket);
  socket.on('error', (err) => console.log(`push server: ${err.message}`));
  socket.on('close', () => listeners.delete(socket));
});

httpServer.listen(Number(process.env.PORT ?? 0), host);
pushServer.listen(0, host);
await Promise.all([
  once(httpServer, 'listening'),
  once(pushServer, 'listening'),
]);
const httpPort = (httpServer.address() as net.AddressInfo).port;
const pushPort = (pushServer.address() as net.AddressInfo).port;

READY_AT_MS.forEach((ms, i) => {
  setTimeout(() => {
    const item: News = { text: `order ${i + 1} is ready`, at: now() };
    news.push(item);
    console.log(`kitchen: ${item.text} (t=${Math.round(item.at)} ms)`);
    for (const socket of listeners) socket.write(JSON.stringify(item) + '\n');
  }, ms);
});

// --- the two clients --------------------------------------------------
async function pollingClient() {
  let requests = 0;
  let empty = 0;
  const delays: number[] = [];
  while (delays.length < READY_AT_MS.length) {
    await sleep(POLL_EVERY_MS);
    const url = `http://${host}:${httpPort}/news?since=${delays.length}`;
    const res = await fetch(url);
    const items = (await res.json()) as News[];
    requests++;
    if (items.length === 0) empty++;
    for (const item of items) delays.push(now() - item.at);
  }
  return { requests, empty, delays };
}

async function pushClient() {
  const socket = net.connect(pushPort, host);
  socket.on('error', (err) => console.log(`push client: ${err.message}`));
  const delays: number[] = [];
  // readline splits the byte stream into lines for us
  // (more on why in the TCP section).
  for await (const line of readline.createInterface({ input: socket })) {
    const item = JSON.parse(line) as News;
    delays.push(now() - item.at);
    if (delays.length === READY_AT_MS.length) break;
  }
  socket.end();
  return { delays };
}

const [polled, pushed] = await Promise.all([pollingClient(), pushClient()]);

const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  `polling: ${polled.requests} requests, ${polled.empty} came back empty, ` +
    `news arrived ${average(polled.delays).toFixed(0)} ms late on average`,
);
console.log(
  `push: 1 connection, ${pushed.delays.length} messages, 0 wasted, ` +
    `news arrived ${average(pushed.delays).toFixed(1)} ms late on average`,
);

// Tidy up so the program can exit by itself.
httpServer.closeAllConnections();
httpServer.close();
pushServer.close();
