// Runs INSIDE a sandbox (bubblewrap: own network, PID, mount and user namespaces, as an unprivileged
// user), pre-started and waiting for one job on its control channel (fd 3, JSON lines). It is the
// pod's only link to the outside:
//   - it writes the learner's program into /work and starts it (a fresh node with Node's permission
//     model), stdout/stderr going straight to the host;
//   - inside the pod, 127.0.0.1:<port> for each reference server of the run is relayed to a unix
//     socket in /sock that the host serves (the learner sees ordinary TCP ports);
//   - /sock/connect.sock lets the host open connections to ports inside the pod (the grader
//     reaching the learner's server): 2-byte port, then 1 byte back (1 = connected, 0 = refused);
//   - the UDP echo reference server runs here, since datagrams cannot cross a unix stream socket.
// It reports {"type":"ready"}, {"type":"started"} and {"type":"exit",code,signal} on the channel.
import net from 'node:net';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { spawn } from 'node:child_process';

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
    const relay = net.createServer({ allowHalfOpen: true }, (inside) => pipeBoth(inside, net.connect({ path: `/sock/port-${port}.sock`, allowHalfOpen: true })));
    await listen(relay, port, '127.0.0.1');
  }
  if (job.udpEchoPort) {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, from) => udp.send(msg, from.port, from.address));
    udp.on('error', () => {});
    await new Promise((resolve) => udp.bind(job.udpEchoPort, '127.0.0.1', resolve));
  }
  await listen(
    net.createServer({ allowHalfOpen: true }, (host) => {
      host.once('readable', function readPort() {
        const header = host.read(2);
        if (!header) return host.once('readable', readPort);
        const target = net.connect({ port: header.readUInt16BE(0), host: '127.0.0.1', allowHalfOpen: true });
        target.once('connect', () => {
          host.write(Buffer.from([1]));
          pipeBoth(host, target);
        });
        target.once('error', () => host.end(Buffer.from([0])));
      });
      host.on('error', () => {});
    }),
    '/sock/connect.sock',
  );
  const learner = spawn(process.execPath, [...job.nodeArgs, `/work/${job.entry}`], {
    cwd: '/work',
    env: job.env,
    stdio: ['ignore', 1, 2],
  });
  report({ type: 'started', pid: learner.pid });
  learner.on('exit', (code, signal) => {
    report({ type: 'exit', code, signal });
    control.end(() => process.exit(0));
  });
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
