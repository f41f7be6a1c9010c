// What survives a trip through Socket.IO: arguments are JSON, except Buffers and typed arrays, which
// travel as binary. Each value goes to the run's socketIo server in an `echo` event and comes back
// through the acknowledgement, so it is serialised twice (once each way), as any event would be.
import { inspect } from 'node:util';
import { io } from 'socket.io-client';

const socket = io(`http://${process.env.HOST}:${process.env.SOCKET_IO_PORT}`, { auth: { name: 'serialiser' }, transports: ['websocket'] });
await new Promise<void>((resolve) => socket.once('connect', resolve));

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
  length(): number {
    return Math.hypot(this.x, this.y);
  }
}

const values: [string, unknown][] = [
  ['a Date', new Date(0)],
  ['a Map', new Map([['a', 1]])],
  ['a Set', new Set([1, 2])],
  ['an object with an undefined field', { a: 1, b: undefined }],
  ['undefined', undefined],
  ['NaN', NaN],
  ['a class instance', new Point(3, 4)],
  ['a Buffer', Buffer.from([1, 2, 3])],
  ['a Uint8Array', new Uint8Array([4, 5])],
];
for (const [label, value] of values) {
  const back: unknown = await socket.timeout(1000).emitWithAck('echo', value);
  const kind = back instanceof Buffer ? 'Buffer' : back === null ? 'null' : typeof back === 'object' ? back.constructor.name : typeof back;
  console.log(`${label.padEnd(34)} ${inspect(value, { breakLength: Infinity }).padEnd(28)} -> ${inspect(back, { breakLength: Infinity })} (${kind})`);
}

// Some values cannot be sent at all: emit() throws before anything leaves.
const circular: { self?: unknown } = {};
circular.self = circular;
for (const [label, value] of [['a BigInt', 10n], ['a circular object', circular]] as [string, unknown][]) {
  try {
    socket.emit('echo', value);
    console.log(`${label}: sent`);
  } catch (err) {
    console.log(`${label}: emit throws ${(err as Error).constructor.name}: ${(err as Error).message}`);
  }
}
socket.close();
