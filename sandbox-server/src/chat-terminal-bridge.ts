// The chat terminal's bridge (/live/chat-terminal): each browser WebSocket becomes one TCP
// connection to the shared TCP chat, so a learner in a lesson page joins the same chat as other
// learners and as programs connected to CHAT_PORT. Lines go both ways: a text message from the
// browser is one line to the chat, each line from the chat is one {"type":"line"} message back
// (shapes/chat-terminal.ts). The bridge is public, so it is a hardened WebSocket server
// (ws-server-base.ts: connections in all and per IP, message size, message rate, idle time,
// heartbeat, unread data) and it checks every line before the chat sees it: no control
// characters (nobody's terminal is sent escape sequences from the web), at most the chat's own
// line length (refused here with a sentence, where the chat would disconnect), and a line rate per
// connection and per IP well below the chat's, refused line by line so one flooding tab spends its
// own budget and nobody else's.
import net from 'node:net';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { ReferenceWebSocketServer, SHARED_WS_LIMITS, type WsConnection, type WsServerLimits } from './reference-servers/ws-server-base.ts';
import { LineDecoder } from './reference-servers/line-decoder.ts';
import { MAX_LINE_BYTES } from './reference-servers/tcp-chat.ts';
import { TokenBuckets } from './token-buckets.ts';
import { clientIp } from './api/rate-limit.ts';
import type { UpgradeRouter } from './live-routes.ts';
import type { ChatTerminalMessage, ChatTerminalRefusalCode } from './shapes/chat-terminal.ts';

export const CHAT_TERMINAL_PATH = '/live/chat-terminal';

export interface ChatBridgeLimits extends WsServerLimits {
  /** Lines one connection may send per minute, after a burst of `lineBurst`; past it a line is refused. */
  linesPerMinute: number;
  lineBurst: number;
  /** The same for all connections from one IP together. */
  ipLinesPerMinute: number;
  ipLineBurst: number;
}

/**
 * Typing speed with room for a short paste, far below the chat's own 3,000 a minute. A message
 * larger than 16 KiB is no chat line: it closes the connection (1009); one of 4 KiB to 16 KiB is
 * refused with a sentence. At most half of the chat's connections come through the bridge (the
 * course server passes half of REF_MAX_CONNECTIONS), so programs on CHAT_PORT always find room.
 */
export const CHAT_BRIDGE_LIMITS: ChatBridgeLimits = {
  maxConnections: 128,
  maxPerIp: SHARED_WS_LIMITS.maxPerIp ?? 20,
  idleTimeoutMs: 5 * 60_000,
  maxMessageBytes: 16 * 1024,
  messagesPerMinute: SHARED_WS_LIMITS.messagesPerMinute ?? 600,
  messageBurst: SHARED_WS_LIMITS.messageBurst ?? 60,
  // Per IP the bridge counts lines (below) and refuses them one by one rather than closing a tab.
  ipMessagesPerMinute: 0,
  ipMessageBurst: 0,
  maxBufferedBytes: 1024 * 1024,
  heartbeatMs: SHARED_WS_LIMITS.heartbeatMs ?? 30_000,
  linesPerMinute: 120,
  lineBurst: 20,
  ipLinesPerMinute: 480,
  ipLineBurst: 60,
};

/** A line from the chat longer than this is no chat line (the chat's own are at most ~4 KiB plus a name). */
const MAX_CHAT_LINE_BYTES = 64 * 1024;
/** After the browser has gone, how long the chat may take to close its side before the socket is destroyed. */
const END_GRACE_MS = 2000;

/** Where the shared chat listens. */
export interface ChatTarget {
  host: string;
  port: number;
}

export class ChatTerminalBridge extends ReferenceWebSocketServer {
  private readonly chats = new Map<number, net.Socket>();
  private readonly lineRate: TokenBuckets;
  private readonly ipLineRate: TokenBuckets;

  constructor(
    private readonly target: ChatTarget,
    limits: Partial<ChatBridgeLimits> = {},
  ) {
    const all = { ...CHAT_BRIDGE_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) };
    super('chat-terminal', undefined, all);
    this.lineRate = new TokenBuckets(all.linesPerMinute, all.lineBurst);
    this.ipLineRate = new TokenBuckets(all.ipLinesPerMinute, all.ipLineBurst);
  }

  override async close(): Promise<void> {
    for (const socket of this.chats.values()) socket.destroy();
    await super.close();
  }

  protected onConnection(conn: WsConnection): void {
    const chat = net.connect({ host: this.target.host, port: this.target.port });
    chat.setNoDelay(true); // one line per keypress of Enter: send it now
    this.chats.set(conn.id, chat);
    const decoder = new LineDecoder(MAX_CHAT_LINE_BYTES);
    let connected = false;
    chat.once('connect', () => (connected = true));
    chat.on('data', (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = decoder.push(chunk);
      } catch {
        chat.destroy();
        return conn.close(1011, 'the chat sent a line too long to show');
      }
      // A browser that stops reading is dropped by the base once 1 MiB waits for it.
      for (const text of lines) this.send(conn, { type: 'line', text });
    });
    chat.on('error', () => {}); // 'close' follows and says what happened
    chat.on('close', () => {
      this.chats.delete(conn.id);
      const rest = decoder.end();
      if (rest !== undefined) this.send(conn, { type: 'line', text: rest });
      if (connected) conn.close(1000, 'the chat closed the connection');
      else conn.close(1011, 'the shared chat is not reachable, try again later');
    });
  }

  protected onMessage(conn: WsConnection, data: Buffer, isBinary: boolean): void {
    const chat = this.chats.get(conn.id);
    if (!chat) return; // the chat side has gone; the close is under way
    const refusal = this.refusal(conn, data, isBinary);
    if (refusal) return this.send(conn, { type: 'refused', code: refusal.code, message: refusal.message });
    chat.write(Buffer.concat([data, Buffer.from('\n')]));
  }

  protected onGone(conn: WsConnection): void {
    this.lineRate.forget(String(conn.id));
    const chat = this.chats.get(conn.id);
    if (!chat) return;
    this.chats.delete(conn.id);
    chat.end(); // the chat sees the user leave, as from any client that closes
    const timer = setTimeout(() => chat.destroy(), END_GRACE_MS);
    timer.unref();
    chat.once('close', () => clearTimeout(timer));
  }

  /** Why this message is not passed on as a line, or undefined. Checked in this order; only a line that passes spends the rates. */
  private refusal(conn: WsConnection, data: Buffer, isBinary: boolean): { code: ChatTerminalRefusalCode; message: string } | undefined {
    if (isBinary) return { code: 'binary', message: 'send each line as a text message, not a binary one' };
    const text = data.toString('utf8');
    if (/\p{Cc}/u.test(text)) {
      return { code: 'control_characters', message: 'a line may not hold control characters (newlines, tabs, escapes): send one line per message, as plain text' };
    }
    if (data.length > MAX_LINE_BYTES) {
      return { code: 'line_too_long', message: `that line is ${data.length} bytes; the chat takes at most ${MAX_LINE_BYTES} bytes per line (UTF-8)` };
    }
    // The connection's own budget first, so a flooding tab does not drain its neighbours' shared IP budget.
    if (this.lineRate.waitMs(String(conn.id)) > 0 || !this.ipLineRate.tryTake(conn.ip)) {
      return { code: 'too_many_lines', message: 'too many lines: that one was not sent, wait a moment before the next' };
    }
    this.lineRate.take(String(conn.id));
    return undefined;
  }

  private send(conn: WsConnection, message: ChatTerminalMessage): void {
    conn.send(message);
  }
}

/** The address to connect to for a server listening on `host` (a wildcard address means this machine). */
export function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

/** Routes /live/chat-terminal to the bridge, with the client's IP as the API sees it. */
export function addChatTerminalRoute(router: UpgradeRouter, bridge: ChatTerminalBridge, trustProxyHops: number): void {
  router.add(CHAT_TERMINAL_PATH, (req: http.IncomingMessage, socket: Duplex, head: Buffer) => bridge.handleUpgrade(req, socket, head, clientIp(req, trustProxyHops)));
}
