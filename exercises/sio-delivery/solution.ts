// A message relay that loses nothing and doubles nothing (the rules are in the instructions):
// senders retry until acknowledged, so the server deduplicates by (sender, id) and answers a retry
// with the first answer; recipients acknowledge each message, so the server keeps a message until
// then and sends it again on the recipient's next connection.
import { Server, type Socket } from 'socket.io';

const USER_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const MAX_ID_CHARS = 64;
const MAX_TEXT_CHARS = 1000;
/** Ids remembered per sender: a retry of an older one may be taken as new. */
const REMEMBERED_IDS = 100;
/** Unacknowledged messages kept per recipient: past it the oldest is dropped. */
const KEPT_UNACKED = 100;

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
  // The client may leave out the callback: then nobody is told, but the message is still relayed.
  send: (request: unknown, ack?: (reply: SendReply) => void) => void;
}

interface ServerToClientEvents {
  message: (message: Delivery, ack: () => void) => void;
}

interface SocketData {
  user: string;
}

type RelaySocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Stands for a database write: a message counts as accepted only once it is saved. Takes a few milliseconds. */
function persist(message: Delivery & { to: string }): Promise<void> {
  void message;
  return new Promise((resolve) => setTimeout(resolve, 5));
}

/** One recipient's side: the next number and what it has not acknowledged yet, in seq order. */
class Inbox {
  private nextSeq = 1;
  readonly unacked = new Map<number, Delivery>();

  takeSeq(): number {
    return this.nextSeq++;
  }

  keep(message: Delivery): void {
    this.unacked.set(message.seq, message);
    if (this.unacked.size > KEPT_UNACKED) this.unacked.delete(this.unacked.keys().next().value!);
  }
}

const inboxes = new Map<string, Inbox>();
/** Each sender's recent ids → the (possibly still pending) answer of the first send with that id. */
const answers = new Map<string, Map<string, Promise<SendReply>>>();
/** Each user's open connections. */
const connections = new Map<string, Set<RelaySocket>>();

function inboxOf(user: string): Inbox {
  let inbox = inboxes.get(user);
  if (!inbox) inboxes.set(user, (inbox = new Inbox()));
  return inbox;
}

function answersOf(user: string): Map<string, Promise<SendReply>> {
  let sent = answers.get(user);
  if (!sent) answers.set(user, (sent = new Map()));
  return sent;
}

/** Why `request` cannot be relayed, or undefined when it can. */
function problemWith(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return 'send takes an object { id, to, text }';
  const { id, to, text } = request as Record<string, unknown>;
  if (typeof id !== 'string' || id.length < 1 || id.length > MAX_ID_CHARS) return `id must be a string of 1 to ${MAX_ID_CHARS} characters`;
  if (typeof to !== 'string' || !USER_PATTERN.test(to)) return 'to must be a user name: 1 to 32 letters, digits, _ or -';
  if (typeof text !== 'string' || text.length < 1 || text.length > MAX_TEXT_CHARS) return `text must be a string of 1 to ${MAX_TEXT_CHARS} characters`;
  return undefined;
}

/** Sends `message` on one connection; the recipient's acknowledgement removes it from the inbox. */
function deliver(socket: RelaySocket, inbox: Inbox, message: Delivery): void {
  socket.emit('message', message, () => inbox.unacked.delete(message.seq));
}

async function relay(from: string, { id, to, text }: SendRequest): Promise<SendReply> {
  const inbox = inboxOf(to);
  const message: Delivery = { seq: inbox.takeSeq(), id, from, text };
  await persist({ ...message, to });
  // Kept and sent in one step, so a connection that opens meanwhile gets it exactly once.
  inbox.keep(message);
  for (const socket of connections.get(to) ?? []) deliver(socket, inbox, message);
  return { ok: true, id, seq: message.seq };
}

const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>({ cors: { origin: '*' } });

io.use((socket, next) => {
  const user: unknown = socket.handshake.auth.user;
  if (typeof user !== 'string' || !USER_PATTERN.test(user)) {
    const refusal = new Error('auth.user is required: 1 to 32 letters, digits, _ or -') as Error & { data: { code: string } };
    refusal.data = { code: 'BAD_USER' };
    return next(refusal);
  }
  socket.data.user = user; // the identity survives reconnections; socket.id does not
  next();
});

io.on('connection', (socket) => {
  const { user } = socket.data;
  let mine = connections.get(user);
  if (!mine) connections.set(user, (mine = new Set()));
  mine.add(socket);
  socket.on('disconnect', () => mine.delete(socket));

  // Whatever this user has not acknowledged, in seq order, before anything newer.
  const inbox = inboxOf(user);
  for (const message of inbox.unacked.values()) deliver(socket, inbox, message);

  socket.on('send', (request, ack) => {
    const answer = (reply: SendReply) => {
      if (typeof ack === 'function') ack(reply);
    };
    const problem = problemWith(request);
    if (problem) return answer({ ok: false, error: { code: 'BAD_MESSAGE', message: problem } });
    const valid = request as SendRequest;
    const sent = answersOf(user);
    let reply = sent.get(valid.id);
    if (!reply) {
      // Remembered before the first await: a duplicate that arrives while this one is saved waits for it.
      reply = relay(user, valid);
      sent.set(valid.id, reply);
      if (sent.size > REMEMBERED_IDS) sent.delete(sent.keys().next().value!);
    }
    void reply.then(answer);
  });
});

io.listen(Number(process.env.PORT));
