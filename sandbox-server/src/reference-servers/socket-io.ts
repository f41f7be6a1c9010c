// The course's Socket.IO server (SOCKET-IO-PROTOCOL.md): a named handshake, acknowledged events
// (echo, rooms, messages, a slow and a silent one), connection state recovery, and — for a run's own
// server — a record of what it saw (handshakes with their auth, events with their arguments and
// whether they asked for an ack, joins, disconnects with their reason) plus controls a grader uses
// to cut connections and push events. It trusts nothing a client sends: names, rooms, texts,
// argument counts and sizes are checked, and events are rate-limited per connection.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { Server, type Socket } from 'socket.io';
import type { TrafficLog } from '../traffic/traffic-log.ts';
import { WebSocketTap } from '../traffic/websocket-tap.ts';
import { TokenBuckets } from '../token-buckets.ts';
import { HttpHostedServer } from './http-hosted-server.ts';

export interface SocketIoLimits {
  /** Engine.IO connections at once; one more is refused at the handshake (HTTP 503). */
  maxConnections: number;
  /** Connections per client address; one more is refused (HTTP 429). */
  maxPerIp: number;
  /** Largest packet a client may send (Engine.IO's maxHttpBufferSize); a larger one closes the connection. */
  maxMessageBytes: number;
  /** Events per minute per connection, with this burst; past it the connection is told why and disconnected. */
  eventsPerMinute: number;
  eventBurst: number;
  /** A connection that emits nothing for this long is disconnected (0 = never). */
  idleTimeoutMs: number;
}

export const DEFAULT_SOCKET_IO_LIMITS: SocketIoLimits = {
  maxConnections: 200,
  maxPerIp: 200,
  maxMessageBytes: 64 * 1024,
  eventsPerMinute: 0,
  eventBurst: 0,
  idleTimeoutMs: 0,
};

/** The shared server's strictness (it is public); the configuration adds caps and the idle timeout. */
export const SHARED_SOCKET_IO_LIMITS: Partial<SocketIoLimits> = { maxPerIp: 20, maxMessageBytes: 16 * 1024, eventsPerMinute: 600, eventBurst: 60 };

/** What the protocol allows. */
export const SOCKET_IO_RULES = {
  name: /^[^\p{Cc}\p{Cf}]{1,32}$/u,
  room: /^[A-Za-z0-9_-]{1,32}$/,
  maxText: 500,
  maxRooms: 10,
  maxEchoArgs: 10,
  maxSlowMs: 5000,
} as const;

/** How long a dropped client may come back and get what it missed (connection state recovery). */
export const RECOVERY_WINDOW_MS = 30_000;

export type SocketIoEvent =
  | { kind: 'connect'; id: string; nsp: string; auth: unknown; transport: string; recovered: boolean }
  | { kind: 'refused'; nsp: string; auth: unknown; code: string; message: string }
  | { kind: 'event'; id: string; event: string; args: unknown[]; withAck: boolean }
  | { kind: 'join'; id: string; room: string }
  | { kind: 'leave'; id: string; room: string }
  | { kind: 'disconnect'; id: string; reason: string };

export interface ChatMessage {
  id: string;
  room: string | null;
  from: string;
  text: string;
  at: number;
}

type Reply = { ok: true; [key: string]: unknown } | { ok: false; error: { code: string; message: string } };
type Ack = (...args: unknown[]) => void;

function refusal(code: string, message: string): Reply {
  return { ok: false, error: { code, message } };
}

/** An Error for `connect_error`: the client sees `message`, and `data.code` to act on. */
function handshakeError(code: string, message: string): Error & { data: { code: string } } {
  return Object.assign(new Error(message), { data: { code } });
}

export class SocketIoReferenceServer extends HttpHostedServer {
  readonly limits: SocketIoLimits;
  /** Every event, when observing (a run's server). */
  readonly seen: SocketIoEvent[] = [];
  private readonly events = new EventEmitter();
  protected readonly http = http.createServer();
  readonly io: Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly perIp = new Map<string, number>();
  private readonly eventRate: TokenBuckets;
  /** A token the handshake must carry as auth.token (a grader sets one for a run's server). */
  private requiredToken: string | undefined;

  constructor(
    private readonly traffic?: TrafficLog,
    limits: Partial<SocketIoLimits> = {},
    private readonly observe = true,
  ) {
    super();
    const given = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
    this.limits = { ...DEFAULT_SOCKET_IO_LIMITS, ...given };
    this.eventRate = new TokenBuckets(this.limits.eventsPerMinute, this.limits.eventBurst);
    this.events.setMaxListeners(0);
    this.http.on('error', () => {}); // listen errors are reported by listen()'s promise
    this.http.on('connection', (socket: net.Socket) => this.track(socket));
    this.io = new Server(this.http, {
      serveClient: false,
      maxHttpBufferSize: this.limits.maxMessageBytes,
      connectionStateRecovery: { maxDisconnectionDuration: RECOVERY_WINDOW_MS, skipMiddlewares: true },
      allowRequest: (req, callback) => this.admit(req, callback),
    });
    this.io.use((socket, next) => {
      const problem = this.checkHandshake(socket.handshake.auth);
      if (!problem) return next();
      this.record({ kind: 'refused', nsp: socket.nsp.name, auth: socket.handshake.auth, code: problem.data.code, message: problem.message });
      next(problem);
    });
    this.io.engine.on('connection', (conn: { remoteAddress: string; once(event: 'close', listener: () => void): void }) => this.countAddress(conn));
    this.io.on('connection', (socket) => this.serve(socket));
  }

  /** Counts an Engine.IO connection against its address until it closes. */
  private countAddress(conn: { remoteAddress: string; once(event: 'close', listener: () => void): void }): void {
    const ip = conn.remoteAddress;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    conn.once('close', () => {
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.perIp.set(ip, left);
      else this.perIp.delete(ip);
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }

  /** Connected sockets now, in connection order. */
  connected(): Socket[] {
    return [...this.io.of('/').sockets.values()];
  }

  /** Calls `listener` with each event as it is seen; returns a function that stops it. */
  onEvent(listener: (event: SocketIoEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  /**
   * Ends a client's connection. "server": Socket.IO's disconnect (the client's reason is
   * "io server disconnect" and it does not reconnect by itself); "transport": the connection is
   * dropped (the client's reason is "transport close", and it reconnects and may recover).
   */
  disconnect(id: string, how: 'server' | 'transport'): boolean {
    const socket = this.io.of('/').sockets.get(id);
    if (!socket) return false;
    if (how === 'server') socket.disconnect(true);
    else socket.conn.close();
    return true;
  }

  /**
   * Forgets every session kept so far for connection state recovery: a client that comes back with
   * one gets a new session (recovered: false, a new id), as after a server restart. Socket.IO has no
   * public call for it; its in-memory adapter keeps them in a Map named `sessions`.
   */
  forgetSessions(): void {
    const adapter = this.io.of('/').adapter as unknown as { sessions?: Map<string, unknown> };
    if (!(adapter.sessions instanceof Map)) throw new Error("socket.io's adapter no longer keeps its sessions in a Map: forgetSessions() needs another way");
    adapter.sessions.clear();
  }

  /** From now on a handshake must carry auth.token === token (undefined: no token needed, the default). */
  requireToken(token: string | undefined): void {
    this.requiredToken = token;
  }

  private admit(req: http.IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void): void {
    // Only a new Engine.IO session counts; the requests of an open one (polling, upgrade) carry its sid.
    if (new URL(req.url ?? '/', 'http://x').searchParams.has('sid')) return callback(null, true);
    const ip = req.socket.remoteAddress ?? 'unknown';
    if (this.io.engine.clientsCount >= this.limits.maxConnections) return callback('server full', false);
    if ((this.perIp.get(ip) ?? 0) >= this.limits.maxPerIp) return callback('too many connections from your address', false);
    callback(null, true);
  }

  private checkHandshake(auth: unknown): (Error & { data: { code: string } }) | undefined {
    const name = (auth as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return handshakeError('NAME_REQUIRED', 'auth.name is required: connect with io(url, { auth: { name: "Ada" } })');
    if (!SOCKET_IO_RULES.name.test(name)) return handshakeError('BAD_NAME', 'auth.name must be 1 to 32 characters with no control characters');
    if (this.requiredToken === undefined) return undefined;
    const token = (auth as { token?: unknown }).token;
    if (token === undefined) return handshakeError('TOKEN_REQUIRED', 'auth.token is required by this server');
    if (token !== this.requiredToken) return handshakeError('BAD_TOKEN', 'auth.token is not valid');
    return undefined;
  }

  private serve(socket: Socket): void {
    const name = (socket.handshake.auth as { name: string }).name;
    socket.data.name = name;
    this.record({ kind: 'connect', id: socket.id, nsp: socket.nsp.name, auth: socket.handshake.auth, transport: socket.conn.transport.name, recovered: socket.recovered });

    let idle: NodeJS.Timeout | undefined;
    if (this.limits.idleTimeoutMs > 0) {
      idle = setTimeout(() => socket.disconnect(true), this.limits.idleTimeoutMs);
      idle.unref();
    }
    socket.use(([event, ...args], next) => {
      idle?.refresh();
      if (!this.eventRate.tryTake(socket.id)) {
        socket.emit('server-error', { code: 'TOO_MANY_EVENTS', message: 'too many events: slow down' });
        socket.disconnect(true);
        return;
      }
      const withAck = typeof args[args.length - 1] === 'function';
      this.record({ kind: 'event', id: socket.id, event: String(event), args: withAck ? args.slice(0, -1) : args, withAck });
      next();
    });
    socket.on('disconnect', (reason) => {
      clearTimeout(idle);
      this.eventRate.forget(socket.id);
      for (const room of socket.rooms) if (room !== socket.id) this.io.to(room).emit('left', { room, id: socket.id, name });
      this.record({ kind: 'disconnect', id: socket.id, reason });
    });

    // The request is carried out whether or not it asked for an answer; only the answer needs the callback.
    const reply = (ack: unknown, answer: Reply | (() => Reply)) => {
      const result = typeof answer === 'function' ? answer() : answer;
      if (typeof ack === 'function') (ack as Ack)(result);
    };
    socket.on('echo', (...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as Ack) : undefined;
      if (args.length > SOCKET_IO_RULES.maxEchoArgs) return ack?.(refusal('TOO_MANY_ARGS', `echo takes at most ${SOCKET_IO_RULES.maxEchoArgs} arguments`));
      ack?.(...args);
    });
    socket.on('whoami', (ack: unknown) => reply(ack, () => ({ ok: true, id: socket.id, name, rooms: this.roomsOf(socket) })));
    socket.on('join', (room: unknown, ack: unknown) => reply(ack, () => this.join(socket, room)));
    socket.on('leave', (room: unknown, ack: unknown) => reply(ack, () => this.leave(socket, room)));
    socket.on('members', (room: unknown, ack: unknown) =>
      reply(ack, () => (this.validRoom(room) ? { ok: true, room, members: this.membersOf(room) } : refusal('BAD_ROOM', 'a room is 1 to 32 letters, digits, "_" or "-"'))),
    );
    socket.on('say', (message: unknown, ack: unknown) => reply(ack, () => this.say(socket, message)));
    socket.on('slow', (ms: unknown, ack: unknown) => {
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > SOCKET_IO_RULES.maxSlowMs) {
        return reply(ack, refusal('BAD_DELAY', `slow takes a whole number of milliseconds from 0 to ${SOCKET_IO_RULES.maxSlowMs}`));
      }
      setTimeout(() => reply(ack, { ok: true, waited: ms }), ms).unref();
    });
    // 'silent' is received and never acknowledged: what a client's ack timeout is for.
    socket.on('silent', () => {});

    if (!socket.recovered) socket.emit('welcome', { id: socket.id, name });
  }

  private roomsOf(socket: Socket): string[] {
    return [...socket.rooms].filter((room) => room !== socket.id);
  }

  private membersOf(room: string): string[] {
    const ids = this.io.of('/').adapter.rooms.get(room) ?? new Set<string>();
    return [...ids].map((id) => this.io.of('/').sockets.get(id)?.data.name as string).filter((n) => n !== undefined);
  }

  private validRoom(room: unknown): room is string {
    return typeof room === 'string' && SOCKET_IO_RULES.room.test(room);
  }

  private join(socket: Socket, room: unknown): Reply {
    if (!this.validRoom(room)) return refusal('BAD_ROOM', 'a room is 1 to 32 letters, digits, "_" or "-"');
    if (!socket.rooms.has(room)) {
      if (this.roomsOf(socket).length >= SOCKET_IO_RULES.maxRooms) return refusal('TOO_MANY_ROOMS', `a connection may be in at most ${SOCKET_IO_RULES.maxRooms} rooms`);
      socket.to(room).emit('joined', { room, id: socket.id, name: socket.data.name });
      socket.join(room);
      this.record({ kind: 'join', id: socket.id, room });
    }
    return { ok: true, room, members: this.membersOf(room) };
  }

  private leave(socket: Socket, room: unknown): Reply {
    if (!this.validRoom(room)) return refusal('BAD_ROOM', 'a room is 1 to 32 letters, digits, "_" or "-"');
    if (!socket.rooms.has(room)) return refusal('NOT_IN_ROOM', `you are not in room ${room}`);
    socket.leave(room);
    this.record({ kind: 'leave', id: socket.id, room });
    this.io.to(room).emit('left', { room, id: socket.id, name: socket.data.name });
    return { ok: true, room };
  }

  private say(socket: Socket, message: unknown): Reply {
    const { room, text } = (typeof message === 'object' && message !== null ? message : {}) as { room?: unknown; text?: unknown };
    if (typeof text !== 'string' || text.length === 0 || text.length > SOCKET_IO_RULES.maxText) {
      return refusal('BAD_TEXT', `say takes { text } with 1 to ${SOCKET_IO_RULES.maxText} characters`);
    }
    if (room !== undefined && room !== null && !this.validRoom(room)) return refusal('BAD_ROOM', 'a room is 1 to 32 letters, digits, "_" or "-"');
    if (typeof room === 'string' && !socket.rooms.has(room)) return refusal('NOT_IN_ROOM', `join room ${room} before you speak in it`);
    const sent: ChatMessage = { id: randomUUID(), room: typeof room === 'string' ? room : null, from: socket.data.name, text, at: Date.now() };
    if (sent.room) this.io.to(sent.room).emit('message', sent);
    else this.io.emit('message', sent);
    return { ok: true, id: sent.id };
  }

  private track(socket: net.Socket): void {
    socket.on('error', () => {}); // ECONNRESET and the like: 'close' follows
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (!this.traffic) return;
    new WebSocketTap(this.traffic, 'socketIo', this.traffic.acceptedConnection('socketIo', socket), undefined, 'from-learner').attach(socket);
  }

  private record(event: SocketIoEvent): void {
    if (this.observe) this.seen.push(event);
    this.events.emit('event', event);
  }
}
