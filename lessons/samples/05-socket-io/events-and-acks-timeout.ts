// Acknowledgements against the run's socketIo server: a callback gets every argument of the ack,
// emitWithAck only the first; a timeout turns "no answer" into an error; a refusal comes back as
// a value; and a disconnect fails the acks that have a timeout and silently forgets the others.
import { io } from 'socket.io-client';

const socket = io(`http://${process.env.HOST}:${process.env.SOCKET_IO_PORT}`, { auth: { name: 'Ada' }, transports: ['websocket'] });
await new Promise<void>((resolve) => socket.once('connect', resolve));

// 1. The server acks `echo` with the arguments it got: three of them here.
await new Promise<void>((resolve) =>
  socket.emit('echo', 'one', 'two', 'three', (...args: unknown[]) => {
    console.log(`1. callback: ${JSON.stringify(args)}`);
    resolve();
  }),
);
console.log(`1. emitWithAck: ${JSON.stringify(await socket.emitWithAck('echo', 'one', 'two', 'three'))}`);

// 2. `silent` is never acked. With timeout(ms), the callback's first argument is the error (or null).
await new Promise<void>((resolve) =>
  socket.timeout(200).emit('silent', (err: Error | null) => {
    console.log(`2. timeout(200).emit: err = ${err?.message}`);
    resolve();
  }),
);
await socket
  .timeout(200)
  .emitWithAck('silent')
  .catch((err: Error) => console.log(`2. timeout(200).emitWithAck: rejected, ${err.message}`));

// 3. Too slow is the same as never: the ack of `slow` comes after 400 ms, the client stopped waiting
//    at 100 ms. The server did the work all the same; its late ack is dropped.
await socket
  .timeout(100)
  .emitWithAck('slow', 400)
  .catch((err: Error) => console.log(`3. slow 400 ms, timeout 100 ms: rejected, ${err.message}`));
console.log(`3. slow 50 ms, timeout 1000 ms: ${JSON.stringify(await socket.timeout(1000).emitWithAck('slow', 50))}`);

// 4. A refusal is an answer like any other: the promise resolves, and `ok` says what happened.
const refused = await socket.timeout(1000).emitWithAck('say', { text: '' });
console.log(`4. say with an empty text: resolved with ${JSON.stringify(refused)}`);

// 5. Disconnected while waiting: the ack with a timeout fails at once; the plain callback is never called.
let plainCalled = false;
socket.emit('slow', 300, () => (plainCalled = true));
const withTimeout = socket.timeout(5000).emitWithAck('slow', 300);
socket.disconnect();
await withTimeout.catch((err: Error) => console.log(`5. timeout(5000).emitWithAck: rejected, ${err.message}`));
console.log(`5. plain callback called: ${plainCalled}`);
