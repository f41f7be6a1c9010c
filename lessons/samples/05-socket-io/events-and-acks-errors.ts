// What a thrown error in an event handler does: Socket.IO does not catch it, the client is told
// nothing, and the exception reaches the process (which, without the listeners below, ends the
// server for everyone). The fix: catch in the handler and answer through the ack.
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect } from 'socket.io-client';

// Only so that this demo survives what would otherwise end it; a real server must not rely on these.
process.on('uncaughtException', (err) => console.log(`process: uncaughtException "${err.message}" (without this listener, the server would exit)`));
process.on('unhandledRejection', (err) => console.log(`process: unhandledRejection "${(err as Error).message}" (likewise)`));

type Ack = (reply: unknown) => void;
type Handler = (payload: unknown) => unknown;

/** Runs a handler (sync or async) and answers through the ack whatever happens: a result, or an error reply. */
function answering(handler: Handler) {
  return async (payload: unknown, ack: unknown) => {
    let reply: unknown;
    try {
      reply = { ok: true, result: await handler(payload) };
    } catch (err) {
      console.log(`server: handler failed: ${(err as Error).message}`); // the details stay in the server's log
      reply = { ok: false, error: { code: 'INTERNAL', message: 'the server could not do that' } };
    }
    if (typeof ack === 'function') (ack as Ack)(reply);
  };
}

const parse: Handler = (payload) => JSON.parse(String(payload)) as unknown; // throws on bad JSON
const parseLater: Handler = async (payload) => parse(payload);

const io = new Server(0, { transports: ['websocket'] });
io.on('connection', (socket) => {
  socket.on('parse-naive', (payload: unknown, ack: Ack) => ack(parse(payload)));
  socket.on('parse-naive-async', async (payload: unknown, ack: Ack) => ack(await parseLater(payload)));
  socket.on('parse', answering(parse));
});

const client = connect(`http://127.0.0.1:${(io.httpServer.address() as AddressInfo).port}`, { transports: ['websocket'] });
await new Promise<void>((resolve) => client.once('connect', resolve));
for (const event of ['parse-naive', 'parse-naive-async', 'parse']) {
  for (const payload of ['{"a":1}', '{oops']) {
    const outcome = await client
      .timeout(300)
      .emitWithAck(event, payload)
      .then(
        (reply: unknown) => `ack ${JSON.stringify(reply)}`,
        (err: Error) => `no ack: ${err.message}`,
      );
    console.log(`client: ${event} ${payload} -> ${outcome}`);
  }
}
client.close();
io.close();
