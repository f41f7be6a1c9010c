// A message relay with delivery guarantees: the rules are in the instructions above.
// This starter relays at most once: a lost connection loses messages, and a retry doubles them.
import { Server } from 'socket.io';

interface SendRequest {
  id: string;
  to: string;
  text: string;
}

interface Delivery {
  seq: number;
  id: string;
  from: string;
  text: string;
}

type SendReply = { ok: true; id: string; seq: number } | { ok: false; error: { code: 'BAD_MESSAGE'; message: string } };

interface ClientToServerEvents {
  // The client may leave out the callback.
  send: (request: unknown, ack?: (reply: SendReply) => void) => void;
}

interface ServerToClientEvents {
  message: (message: Delivery, ack: () => void) => void;
}

interface SocketData {
  user: string;
}

/** Stands for a database write: a message counts as accepted only once it is saved. Takes a few milliseconds. Keep it. */
function persist(message: Delivery & { to: string }): Promise<void> {
  void message;
  return new Promise((resolve) => setTimeout(resolve, 5));
}

const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>();

/** Each recipient's next seq. */
const nextSeq = new Map<string, number>();

io.use((socket, next) => {
  // TODO: refuse a missing or bad auth.user with an Error whose data is { code: 'BAD_USER' }.
  socket.data.user = String(socket.handshake.auth.user);
  next();
});

io.on('connection', (socket) => {
  // Joining a room named after the user lets the relay reach every connection of that user.
  void socket.join(`user:${socket.data.user}`);
  // TODO: send this user everything it has not acknowledged yet, in seq order.

  socket.on('send', async (request, ack) => {
    // TODO: check the request (BAD_MESSAGE); remember (sender, id) so a retry is answered with the
    // first answer and relayed never again, also while the first is still being saved.
    const { id, to, text } = request as SendRequest;
    const seq = nextSeq.get(to) ?? 1;
    nextSeq.set(to, seq + 1);
    const message: Delivery = { seq, id, from: socket.data.user, text };
    await persist({ ...message, to });
    for (const recipient of await io.in(`user:${to}`).fetchSockets()) {
      recipient.emit('message', message, () => {
        // TODO: the recipient confirmed it; until then, keep the message for its next connection.
      });
    }
    ack?.({ ok: true, id, seq });
  });
});

io.listen(Number(process.env.PORT));
