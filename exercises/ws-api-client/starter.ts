// A client of the course's WebSocket JSON API. See the instructions for the requests and the output.
import { WebSocket } from 'ws';

const REQUESTS: Array<{ op: string } & Record<string, unknown>> = [
  { op: 'slow', ms: 400 },
  { op: 'add', a: 2, b: 40 },
  { op: 'upper', text: 'héllo, wörld ✓' },
  { op: 'time' },
  { op: 'add', a: 1, b: 'two' },
  { op: 'slow', ms: 100 },
];

const ws = new WebSocket(`ws://${process.env.HOST}:${process.env.WS_API_PORT}/`);

ws.on('open', () => {
  // TODO: send every request at once, each as JSON with an "id" of its own.
});

ws.on('message', (data) => {
  // TODO: this prints each reply as it arrives, which is not the order of the requests.
  //       Keep each reply by its id; print the lines in request order ("<n> <op> ok <result>"
  //       or "<n> <op> error <error>"); once every reply is in, close with code 1000 and reason "done".
  console.log(data.toString());
});

ws.on('close', (code, reason) => {
  // TODO: print "closed <code> <reason>".
});

ws.on('error', (err) => {
  console.error(`WebSocket error: ${err.message}`);
  process.exitCode = 1;
});
