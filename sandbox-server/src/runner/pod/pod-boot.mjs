// The first code of a pod's only process (inside the sandbox, already under Node's permission model
// and the pod's limits). Started ahead of time, it waits for one job on its control channel (fd 3,
// JSON lines), links the pod's network to the host (pod-relay.mjs), then becomes the learner's
// program, which the host has placed read-only in /work. Starting node ahead of time takes its
// start-up (~100 ms of CPU) off the run; one process per pod halves the cost of a pod.
//
// Channel, host → pod: {"type":"job",entry,env,bridgedPorts,datagramPorts}, then any number of
// {"type":"connect",id,port} and {"type":"reset",id}. Pod → host: {"type":"ready"} once booted,
// {"type":"started"} just before the program runs, {"type":"failed",message} if it cannot be, and
// {"type":"outward-reset",port,source} when the program resets a connection to a service (pod-relay.mjs).
// Once the program runs, the channel is in its hands too: the host trusts nothing it says (the
// exit status comes from the sandbox, the grade from the grader's own sockets).
import net from 'node:net';
import { bridgeDatagrams, bridgeOut, connectDirectly, connectIn, resetIn } from './pod-relay.mjs';

const control = new net.Socket({ fd: 3, readable: true, writable: true });
const report = (message) => control.write(JSON.stringify(message) + '\n');
control.on('error', () => process.exit(1));
control.on('end', () => process.exit(0)); // the host went away: nothing left to do

async function prepare(job) {
  for (const port of job.bridgedPorts) await bridgeOut(port);
  connectDirectly(job.bridgedPorts, report);
  for (const port of job.datagramPorts) await bridgeDatagrams(port);
}

/** Becomes the program: its environment, its argv, its module as the main one. */
function runProgram(job) {
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, job.env);
  process.argv[1] = `/work/${job.entry}`;
  // A throw at the top of the program must behave as usual: an uncaught exception, exit code 1.
  import(`/work/${job.entry}`).catch((err) => setImmediate(() => { throw err; }));
}

function onMessage(message) {
  if (message.type === 'connect') return connectIn(message.id, message.port);
  if (message.type === 'reset') return resetIn(message.id);
  if (message.type !== 'job' || started) return;
  started = true;
  prepare(message).then(
    () => {
      control.unref(); // from now on only the program keeps its process alive
      report({ type: 'started' });
      runProgram(message);
    },
    (err) => {
      report({ type: 'failed', message: String(err?.message ?? err) });
      control.end(() => process.exit(1));
    },
  );
}
let started = false;

let buffered = '';
control.setEncoding('utf8');
control.on('data', (text) => {
  buffered += text;
  for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    onMessage(JSON.parse(line));
  }
});
report({ type: 'ready' });
