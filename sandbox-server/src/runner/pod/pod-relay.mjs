// Runs INSIDE a sandbox (bubblewrap: own network, PID, mount and user namespaces, as an unprivileged
// user), pre-started and waiting for one job on its control channel (fd 3, JSON lines). It is the
// pod's only link to the outside:
//   - it writes the learner's program into /work and starts it (a fresh node with Node's permission
//     model), stdout/stderr going straight to the host;
//   - inside the pod, 127.0.0.1:<port> for each reference server of the run is relayed to a unix
//     socket in /sock that the host serves (the learner sees ordinary TCP ports); each relayed
//     connection starts with 2 bytes: the program's source port;
//   - /sock/connect.sock lets the host open (and reset) connections to ports inside the pod (the
//     grader reaching the learner's server);
//   - the UDP echo reference server runs here, since datagrams cannot cross a unix stream socket.
// It reports {"type":"ready"}, {"type":"started"} and {"type":"exit",code,signal} on the channel.
import net from 'node:net';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { spawn } from 'node:child_process';

// SIGUSR1 would open Node's inspector in this (unrestricted) process to whoever sends it: the
// program runs as the same user, so it must not be able to.
process.on('SIGUSR1', () => {});

const control = new net.Socket({ fd: 3, readable: true, writable: true });
const report = (message) => control.write(JSON.stringify(message) + '\n');
control.on('error', () => process.exit(1));
control.on('end', () => process.exit(0)); // the host went away: nothing left to do

// Both sockets are half-open capable: an end in one direction is passed on (pipe ends the other
// side's writable half) while replies still flow back, exactly as over one TCP connection.
function pipeBoth(a, b) {
  a.setNoDelay?.(true);
  b.setNoDelay?.(true);
  a.pipe(b);
  b.pipe(a);
  const destroyBoth = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', destroyBoth).on('close', destroyBoth);
  b.on('error', destroyBoth).on('close', destroyBoth);
}

function listen(server, ...args) {
  return new Promise((resolve, reject) => server.once('error', reject).listen(...args, resolve));
}

async function run(job) {
  for (const [name, text] of Object.entries(job.files)) fs.writeFileSync(`/work/${name}`, text, { mode: 0o444 });
  for (const port of job.bridgedPorts) {
    const relay = net.createServer({ allowHalfOpen: true }, (inside) => {
      const host = net.connect({ path: `/sock/port-${port}.sock`, allowHalfOpen: true });
      // The host learns the program's own port, as a TCP server would see it (2 bytes, then data).
      const header = Buffer.alloc(2);
      header.writeUInt16BE(inside.remotePort ?? 0);
      host.write(header);
      pipeBoth(inside, host);
    });
    await listen(relay, port, '127.0.0.1');
  }
  if (job.udpEchoPort) {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, from) => udp.send(msg, from.port, from.address));
    udp.on('error', () => {});
    await new Promise((resolve) => udp.bind(job.udpEchoPort, '127.0.0.1', resolve));
  }
  // /sock/connect.sock: the host opens connections into the pod. Request: 1 byte op, then
  //   op 1 (connect): 2 bytes port → 1 byte (1 connected, 0 refused) + 4 bytes connection id, then piped;
  //   op 2 (reset):   4 bytes id → the inside connection is reset (RST), as a crashed client's would be.
  const inside = new Map();
  let nextId = 1;
  const readExactly = (socket, n) =>
    new Promise((resolve) => {
      const attempt = () => {
        const chunk = socket.read(n);
        if (chunk) resolve(chunk);
        else socket.once('readable', attempt);
      };
      attempt();
    });
  await listen(
    net.createServer({ allowHalfOpen: true }, async (host) => {
      host.on('error', () => {});
      const [op] = await readExactly(host, 1);
      if (op === 2) {
        const id = (await readExactly(host, 4)).readUInt32BE(0);
        inside.get(id)?.resetAndDestroy();
        host.end();
        return;
      }
      const port = (await readExactly(host, 2)).readUInt16BE(0);
      const target = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      target.once('connect', () => {
        const id = nextId++;
        inside.set(id, target);
        target.once('close', () => inside.delete(id));
        const ack = Buffer.alloc(5);
        ack[0] = 1;
        ack.writeUInt32BE(id, 1);
        host.write(ack);
        pipeBoth(host, target);
      });
      target.once('error', () => host.end(Buffer.from([0])));
    }),
    '/sock/connect.sock',
  );
  // Every socket the host and the relay need now exists: nobody may create files in /sock anymore
  // (binding a unix socket is not covered by Node's permission model).
  fs.chmodSync('/sock', 0o555);
  let learner;
  if (prestarted && prestarted.exitCode === null && JSON.stringify(job.nodeArgs) === JSON.stringify(prestarted.nodeArgs)) {
    learner = prestarted;
    learner.stdin.end(JSON.stringify({ entry: job.entry, env: job.env }) + '\n');
  } else {
    prestarted?.kill('SIGKILL');
    learner = spawn(process.execPath, [...job.nodeArgs, `/work/${job.entry}`], { cwd: '/work', env: job.env, stdio: ['ignore', 1, 2] });
  }
  report({ type: 'started', pid: learner.pid });
  learner.on('exit', (code, signal) => {
    report({ type: 'exit', code, signal });
    control.end(() => process.exit(0));
  });
}

// A learner process started ahead of time with the usual limits (see learner-boot.mjs); a job with
// other limits gets a fresh one.
let prestarted;
const PRESTART_ARGS = process.argv[2] ? JSON.parse(process.argv[2]) : undefined;
if (PRESTART_ARGS) {
  prestarted = spawn(process.execPath, [...PRESTART_ARGS, '/pod/learner-boot.mjs'], { cwd: '/work', env: {}, stdio: ['pipe', 1, 2] });
  prestarted.nodeArgs = PRESTART_ARGS;
  prestarted.stdin.on('error', () => {});
}

let buffered = '';
control.setEncoding('utf8');
control.on('data', (text) => {
  buffered += text;
  const nl = buffered.indexOf('\n');
  if (nl === -1) return;
  const job = JSON.parse(buffered.slice(0, nl));
  buffered = '';
  run(job).catch((err) => {
    report({ type: 'failed', message: String(err?.message ?? err) });
    process.exit(1);
  });
});
report({ type: 'ready' });
