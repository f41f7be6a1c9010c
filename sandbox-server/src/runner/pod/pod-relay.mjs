// Runs INSIDE a pod, in the program's own process, set up by pod-boot.mjs before the program starts.
// The pod's network holds nothing but loopback; this module is its only link to the host, through
// unix sockets the host serves in /sock (a read-only view: the pod can connect, never create):
//   - outward: a connection the program opens to 127.0.0.1:<port> of one of the run's services goes
//     straight to /sock/port-<port>.sock (see connectDirectly), starting with 2 bytes: the program's
//     source port. 127.0.0.1:<port> is also a listener here relaying to the same place, for
//     connections made some other way (a host name that resolves to 127.0.0.1);
//   - inward: on the host's request (a control message) a connection is opened to a port inside the
//     pod (the grader reaching the learner's server) and handed to /sock/into.sock, starting with
//     4 bytes of request id and 1 status byte (1 connected, 0 refused);
//   - datagrams: 127.0.0.1:<port> of each datagram service of the run (the UDP echo) is a UDP socket
//     here whose datagrams go to /sock/udp-<port>.sock framed on a stream (datagram-frames.mjs), and
//     whose replies come back the same way, so the host serves, caps and records them.
// Every handle is unref'd: only the program's own sockets and timers keep its process alive.
import net from 'node:net';
import dgram from 'node:dgram';
import { DatagramFrameReader, encodeDatagramFrame } from './datagram-frames.mjs';

// Both sockets are half-open capable: an end in one direction is passed on (pipe ends the other
// side's writable half) while replies still flow back, exactly as over one TCP connection.
function pipeBoth(a, b) {
  a.setNoDelay?.(true);
  b.setNoDelay?.(true);
  a.unref();
  b.unref();
  a.pipe(b);
  b.pipe(a);
  const destroyBoth = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', destroyBoth).on('close', destroyBoth);
  b.on('error', destroyBoth).on('close', destroyBoth);
}

/** Resolves once 127.0.0.1:`port` inside the pod leads to the host's service for that port. */
export function bridgeOut(port) {
  const server = net.createServer({ allowHalfOpen: true }, (inside) => {
    const host = net.connect({ path: `/sock/port-${port}.sock`, allowHalfOpen: true });
    // The host learns the program's own port, as a TCP server would see it.
    const header = Buffer.alloc(2);
    header.writeUInt16BE(inside.remotePort ?? 0);
    host.write(header);
    pipeBoth(inside, host);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject).listen(port, '127.0.0.1', () => {
      server.unref();
      resolve();
    });
  });
}

const LOOPBACK = new Set(['127.0.0.1', '::ffff:127.0.0.1']);

/** A port for the program's own end of a direct connection (a unix socket has none), as an ephemeral TCP port would be. */
function ephemeralPort() {
  return 32768 + Math.floor(Math.random() * (60999 - 32768));
}

/**
 * Makes the program's TCP connections to the run's services unix socket connections to the host.
 * Through a relay in this process, what the program wrote just before it exited
 * (`socket.write(line, () => process.exit(0))`) would die in the relay's buffers; on its own socket
 * the kernel delivers it, as over TCP. Once connected, the socket looks like the TCP one it stands
 * for; a reset (which a unix socket cannot send) is announced to the host by `notify` first.
 */
export function connectDirectly(ports, notify) {
  const bridged = new Set(ports);
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    // net.connect() passes [options, callback] as one array; socket.connect() gets them as they came.
    const [first, ...rest] = Array.isArray(args[0]) ? args[0] : args;
    const options = typeof first === 'object' && first !== null ? first : { port: first, host: typeof rest[0] === 'string' ? rest.shift() : undefined };
    const callback = rest.find((arg) => typeof arg === 'function');
    const port = Number(options.port);
    if (options.path !== undefined || !bridged.has(port) || !LOOPBACK.has(options.host ?? '')) return connect.apply(this, args);
    const source = ephemeralPort();
    connect.call(this, { path: `/sock/port-${port}.sock` });
    // Before the program's own 'connect' listeners: as with TCP, the addresses exist from then on.
    this.prependOnceListener('connect', () => {
      Object.defineProperties(this, {
        remoteAddress: { value: '127.0.0.1', configurable: true },
        remotePort: { value: port, configurable: true },
        remoteFamily: { value: 'IPv4', configurable: true },
        localAddress: { value: '127.0.0.1', configurable: true },
        localPort: { value: source, configurable: true },
      });
    });
    Object.defineProperty(this, 'resetAndDestroy', {
      configurable: true,
      value: () => {
        notify({ type: 'outward-reset', port, source });
        return this.destroy();
      },
    });
    const header = Buffer.alloc(2);
    header.writeUInt16BE(source);
    this.write(header);
    // After the header's write, which waits for 'connect' too: the header goes out first, so what the
    // callback writes goes out at once, as over TCP (and survives a destroy() right after it).
    if (callback) this.once('connect', callback);
    return this;
  };
}

/** Inward connections by request id, until they close: the host may ask for one to be reset. */
const inward = new Map();

/** Opens 127.0.0.1:`port` inside the pod for the host's request `id` (see the protocol above). */
export function connectIn(id, port) {
  const status = (ok) => {
    const header = Buffer.alloc(5);
    header.writeUInt32BE(id >>> 0);
    header[4] = ok ? 1 : 0;
    return header;
  };
  const target = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  target.unref();
  let connected = false;
  target.once('connect', () => {
    connected = true;
    inward.set(id, target);
    target.once('close', () => inward.delete(id));
    const host = net.connect({ path: '/sock/into.sock', allowHalfOpen: true });
    host.write(status(true));
    pipeBoth(host, target);
  });
  target.once('error', () => {
    if (connected) return; // pipeBoth takes it from here
    const host = net.connect({ path: '/sock/into.sock' });
    host.unref();
    host.on('error', () => {});
    host.end(status(false));
  });
}

/** Ends inward connection `id` with a TCP reset, as a crashed client's would end. */
export function resetIn(id) {
  inward.get(id)?.resetAndDestroy();
}

/** Resolves once datagrams to 127.0.0.1:`port` inside the pod reach the host's service for that port. */
export function bridgeDatagrams(port) {
  const udp = dgram.createSocket('udp4');
  udp.on('error', () => {});
  return new Promise((resolve, reject) => {
    udp.once('error', reject).bind(port, '127.0.0.1', () => {
      const host = net.connect({ path: `/sock/udp-${port}.sock` });
      const reader = new DatagramFrameReader();
      let open = true;
      const stop = () => {
        if (open) udp.close();
        open = false;
      };
      host.once('error', reject); // before it connects; after, 'close' follows
      host.on('error', () => {}).on('close', stop);
      host.on('data', (chunk) => {
        for (const { port: to, payload } of reader.push(chunk)) udp.send(payload, to, '127.0.0.1');
      });
      udp.on('message', (msg, from) => host.write(encodeDatagramFrame(from.port, msg)));
      host.once('connect', () => {
        udp.unref();
        host.unref();
        resolve();
      });
    });
  });
}
