// A Socket.IO client for grading tests (socket.io-client 4), whose every connection goes where the
// kit's connections go (into a pod's network when the learner's server runs in one) and is recorded
// in the traffic log. It keeps every event it receives, in order, so a test can wait for one with a
// deadline, say nothing arrived, and fail with what did arrive instead; acknowledgements are awaited
// with deadlines too, so a server that never acks fails the test saying so.
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { io, type Socket, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import type { TrafficLog } from '../traffic/traffic-log.ts';
import { WebSocketTap } from '../traffic/websocket-tap.ts';
import { GradingFailure } from './context.ts';
import { Waiters } from './waiters.ts';

const DEFAULT_WAIT_MS = 2000;
/** What a failure message shows of a payload, at most. */
const SHOWN_CHARS = 300;

export interface TestSocketIoOptions {
  /** Who this client is in failure messages and the traffic log, e.g. "alice". */
  label: string;
  /** The namespace, e.g. "/admin" (default "/"). */
  namespace?: string;
  /** The handshake's auth payload. */
  auth?: Record<string, unknown>;
  /** Engine.IO transports in the order tried (default: WebSocket only, the fastest to grade). */
  transports?: ('polling' | 'websocket')[];
  /** Reconnect by itself after a lost connection, as socket.io-client does by default (default false). */
  reconnection?: boolean;
  /** How long connecting may take. */
  connectWithin?: number;
  /** Any other socket.io-client option. */
  extra?: Partial<ManagerOptions & SocketOptions>;
}

export interface ReceivedEvent {
  event: string;
  args: unknown[];
}

/** What `connect_error` said when the server refused the connection. */
export interface ConnectRefusal {
  message: string;
  data: unknown;
}

/**
 * A WebSocket-only client whose upgrade the server refused gets connect_error "websocket error":
 * not a middleware's refusal but a transport the server does not take (most often a server set to
 * `transports: ['polling']`), so the failure says so rather than quoting it as a refusal.
 */
function throwIfWebSocketRefused(options: TestSocketIoOptions, refusal: ConnectRefusal): void {
  if (refusal.message !== 'websocket error' || refusal.data !== undefined || options.transports?.includes('polling')) return;
  throw new GradingFailure(`${options.label} could not connect: the grader connects with the WebSocket transport; your server refused it (websocket error): is \`transports: ['polling']\` set on the server?`);
}

/** Opens connections to the server under test (the kit's `learner.connect(port)`). */
export type Connector = () => Promise<net.Socket>;

/** An http.Agent whose connections come from `connector`, each tapped into the traffic log. */
class RoutedAgent extends http.Agent {
  private readonly opened = new Set<net.Socket>();
  /** Why the connector could not open a connection (socket.io-client only says "websocket error"). */
  connectFailure: Error | undefined;

  constructor(
    private readonly connector: Connector,
    private readonly traffic: TrafficLog | undefined,
    private readonly endpoint: string,
    /** The reference server it connects to, when not to the learner's program. */
    private readonly peer?: string,
  ) {
    super({ keepAlive: true, maxSockets: 4 });
  }

  override createConnection(_options: unknown, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    if (!callback) throw new Error('RoutedAgent connects asynchronously: node calls createConnection with a callback');
    this.connector().then(
      (socket) => {
        new WebSocketTap(this.traffic, this.endpoint, this.traffic?.newConnection(this.endpoint, this.peer) ?? 0, undefined, 'from-learner').attach(socket);
        this.opened.add(socket);
        socket.once('close', () => this.opened.delete(socket));
        callback(null, socket);
      },
      (err: Error) => {
        this.connectFailure = err;
        callback(err, undefined as unknown as Duplex);
      },
    );
    return undefined;
  }

  /** Destroys every connection it opened: a network failure, as the server sees it. */
  dropAll(): void {
    for (const socket of this.opened) socket.destroy();
  }
}

export function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
}

export function showCall(event: string, args: unknown[]): string {
  return `${event}(${args.map(show).join(', ')})`;
}

export class TestSocketIo {
  /** Every event received, in order. */
  readonly received: ReceivedEvent[] = [];
  private readonly unread: ReceivedEvent[] = [];
  private readonly waiters = new Waiters();
  /** The reasons of each disconnect, in order. */
  readonly disconnects: string[] = [];

  private constructor(
    readonly socket: Socket,
    readonly label: string,
    private readonly agent: RoutedAgent,
  ) {
    socket.onAny((event: string, ...args: unknown[]) => {
      const received = { event, args };
      this.received.push(received);
      this.unread.push(received);
      this.waiters.wake();
    });
    socket.on('disconnect', (reason) => {
      this.disconnects.push(reason);
      this.waiters.wake();
    });
    socket.on('connect', () => this.waiters.wake());
  }

  /**
   * Connects (the handshake done, the namespace joined); fails with the server's refusal if it
   * refuses. `peer`: the reference server it connects to, when not to the learner's program.
   */
  static async open(connector: Connector, url: string, options: TestSocketIoOptions, traffic?: TrafficLog, peer?: string): Promise<TestSocketIo> {
    const { client, outcome } = TestSocketIo.start(connector, url, options, traffic, peer);
    const result = await outcome;
    if (result === 'connected') return client;
    client.close();
    client.throwIfConnectorFailed();
    if (result === 'timeout') throw new GradingFailure(`${options.label} could not connect to your Socket.IO server within ${(options.connectWithin ?? DEFAULT_WAIT_MS) / 1000} s`);
    throwIfWebSocketRefused(options, result);
    throw new GradingFailure(`your server refused ${options.label}'s connection (connect_error: "${result.message}"${result.data !== undefined ? `, data ${show(result.data)}` : ''})`);
  }

  /** Connects expecting a refusal: resolves with what `connect_error` said; fails if it connected instead. */
  static async openRefused(connector: Connector, url: string, options: TestSocketIoOptions, traffic?: TrafficLog): Promise<ConnectRefusal> {
    const { client, outcome } = TestSocketIo.start(connector, url, options, traffic);
    const result = await outcome;
    client.close();
    if (result !== 'connected') client.throwIfConnectorFailed();
    if (result === 'connected') throw new GradingFailure(`your server accepted ${options.label}'s connection (auth ${show(options.auth ?? {})}), expected it to refuse with a connect_error`);
    if (result === 'timeout') throw new GradingFailure(`${options.label} got neither a connection nor a connect_error from your server within ${(options.connectWithin ?? DEFAULT_WAIT_MS) / 1000} s`);
    throwIfWebSocketRefused(options, result);
    return result;
  }

  /** A kit failure from the connector (the learner's server stopped, or refused TCP) says more than socket.io-client's error. */
  private throwIfConnectorFailed(): void {
    if (this.agent.connectFailure instanceof GradingFailure) throw this.agent.connectFailure;
  }

  private static start(connector: Connector, url: string, options: TestSocketIoOptions, traffic?: TrafficLog, peer?: string) {
    const agent = new RoutedAgent(connector, traffic, `grader:${options.label}`, peer);
    const socket = io(url.replace(/\/$/, '') + (options.namespace ?? '/'), {
      agent: agent as unknown as string, // socket.io-client types agent as string | boolean; Node's http.Agent is what it passes on
      auth: options.auth,
      transports: options.transports ?? ['websocket'],
      reconnection: options.reconnection ?? false,
      timeout: options.connectWithin ?? DEFAULT_WAIT_MS,
      forceNew: true,
      ...options.extra,
    });
    const client = new TestSocketIo(socket, options.label, agent);
    const within = options.connectWithin ?? DEFAULT_WAIT_MS;
    const outcome = new Promise<'connected' | 'timeout' | ConnectRefusal>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), within + 500);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve('connected');
      });
      socket.once('connect_error', (err: Error & { data?: unknown }) => {
        clearTimeout(timer);
        // A refusal by the server's middleware is a Socket.IO packet; anything else is a transport failure.
        resolve({ message: err.message, data: err.data });
      });
    });
    return { client, outcome };
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  get id(): string | undefined {
    return this.socket.id;
  }

  emit(event: string, ...args: unknown[]): void {
    this.socket.emit(event, ...args);
  }

  /**
   * Emits with an acknowledgement callback and resolves with the arguments the server acknowledged
   * with; fails if none comes within the deadline, or the connection is lost first.
   */
  async emitWithAck(event: string, args: unknown[] = [], { within = DEFAULT_WAIT_MS, what }: { within?: number; what?: string } = {}): Promise<unknown[]> {
    const call = what ?? `emit ${showCall(event, args)}`;
    if (!this.socket.connected) throw new GradingFailure(`${this.label} is not connected to your server (it disconnected: ${this.disconnects.at(-1) ?? 'never connected'}), so it could not ${call}`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new GradingFailure(`${this.label} sent ${showCall(event, args)} with an acknowledgement callback, and your server did not call it within ${within / 1000} s`));
      }, within);
      const onDisconnect = (reason: string) => {
        cleanup();
        reject(new GradingFailure(`${this.label} sent ${showCall(event, args)} and was disconnected (${reason}) before your server acknowledged it`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.socket.off('disconnect', onDisconnect);
      };
      this.socket.once('disconnect', onDisconnect);
      this.socket.emit(event, ...args, (...reply: unknown[]) => {
        cleanup();
        resolve(reply);
      });
    });
  }

  /** The next event named `event` not read yet (earlier ones of other names stay unread). */
  async nextEvent(event: string, { within = DEFAULT_WAIT_MS, what }: { within?: number; what?: string } = {}): Promise<unknown[]> {
    return (await this.expectEvent((e) => e.event === event, { within, what: what ?? `a "${event}" event` })).args;
  }

  /** The next unread event that `matches`; fails after `within` saying what did arrive. */
  async expectEvent(matches: (e: ReceivedEvent) => boolean, { within = DEFAULT_WAIT_MS, what = 'the expected event' }: { within?: number; what?: string } = {}): Promise<ReceivedEvent> {
    const find = () => this.unread.findIndex(matches);
    await this.waiters.until(() => find() !== -1 || !this.socket.connected, within);
    const index = find();
    if (index !== -1) return this.unread.splice(index, 1)[0];
    const got = this.unread.length ? ` It received instead: ${this.unread.slice(0, 5).map((e) => showCall(e.event, e.args)).join(', ')}${this.unread.length > 5 ? ', …' : ''}.` : ' It received no other event either.';
    const how = this.socket.connected ? `within ${within / 1000} s` : `before it was disconnected (${this.disconnects.at(-1) ?? 'never connected'})`;
    throw new GradingFailure(`${this.label} expected ${what} from your server ${how}, but none came.${got}`);
  }

  /** Fails if an event that `matches` arrives within `within` ms (or is already unread). */
  async expectNoEvent(matches: (e: ReceivedEvent) => boolean, { within = 200, what = 'an event' }: { within?: number; what?: string } = {}): Promise<void> {
    await this.waiters.until(() => this.unread.some(matches), within);
    const found = this.unread.find(matches);
    if (found) throw new GradingFailure(`${this.label} expected no ${what}, but your server sent ${showCall(found.event, found.args)}`);
  }

  /** Unread events so far (read by nothing). */
  get pending(): readonly ReceivedEvent[] {
    return this.unread;
  }

  /** Waits for the next disconnect and resolves with its reason. */
  async expectDisconnect({ within = DEFAULT_WAIT_MS, what = 'to be disconnected' }: { within?: number; what?: string } = {}): Promise<string> {
    const before = this.disconnects.length;
    if (!this.socket.connected && before > 0) return this.disconnects[before - 1];
    await this.waiters.until(() => this.disconnects.length > before, within);
    if (this.disconnects.length > before) return this.disconnects[before];
    throw new GradingFailure(`${this.label} expected ${what} within ${within / 1000} s, but it stayed connected`);
  }

  /** Waits until connected again (after a reconnection), failing after `within`. */
  async expectConnected({ within = DEFAULT_WAIT_MS }: { within?: number } = {}): Promise<void> {
    await this.waiters.until(() => this.socket.connected, within);
    if (!this.socket.connected) throw new GradingFailure(`${this.label} could not connect to your server again within ${within / 1000} s`);
  }

  /** Drops the connection without a Socket.IO disconnect packet (as a network failure would). */
  dropTransport(): void {
    this.agent.dropAll();
  }

  /** A clean Socket.IO disconnect, and no reconnection. */
  close(): void {
    this.socket.disconnect();
    this.socket.io.engine?.close();
    this.agent.destroy();
  }
}
