// The course's TCP chat server (CHAT-PROTOCOL.md). It also reports what it saw (connections, lines,
// registrations, departures) so graders can judge a learner's chat client by its effect on a server.
import { EventEmitter } from 'node:events';
import { ReferenceTcpServer, type Connection, type TcpServerLimits } from './tcp-server-base.ts';
import { LineDecoder, LineTooLongError } from './line-decoder.ts';
import { TokenBuckets } from '../token-buckets.ts';
import type { TrafficLog } from '../traffic/traffic-log.ts';

export type ChatEvent =
  | { type: 'connect'; connection: number }
  | { type: 'line'; connection: number; user: string | null; line: string }
  | { type: 'registered'; connection: number; user: string }
  | { type: 'left'; connection: number; user: string | null };

interface Member {
  conn: Connection;
  decoder: LineDecoder;
  user: string | null;
}

export const MAX_LINE_BYTES = 4096;

export interface ChatLimits extends TcpServerLimits {
  /** A connection must register a name within this time (0 = no limit). */
  registerTimeoutMs: number;
  /** Lines a connection may send per minute, after a burst of `lineBurst` (each one may be broadcast to everyone). */
  linesPerMinute: number;
  lineBurst: number;
}

/** 3,000 lines a minute after a burst of 200: far above typing or any grading test, far below a flood. */
export const DEFAULT_LINE_RATE = { linesPerMinute: 3000, lineBurst: 200 };

const COMMAND_HELP = [
  'Commands:',
  '  /users - list online users',
  '  /whisper <user> <message> - private message',
  '  /pm <user> <message> - same as /whisper',
  '  /help - this list',
  '  /quit - leave the chat',
];

export class TcpChatServer extends ReferenceTcpServer {
  /** Every ChatEvent is emitted as 'event' and, when observing, kept in `seen`. */
  readonly observer = new EventEmitter();
  readonly seen: ChatEvent[] = [];
  private readonly members = new Map<number, Member>();
  /** Registered members by lower-cased name. A Map iterates in insertion order: registration order, as /users lists them. */
  private readonly registered = new Map<string, Member>();
  private readonly registerTimeoutMs: number;
  private readonly lineRate: TokenBuckets;

  /**
   * @param observe keep every event in `seen` (a run's server, watched by one grade); the shared
   * server runs for days and keeps none.
   */
  constructor(traffic?: TrafficLog, limits: Partial<ChatLimits> = {}, private readonly observe = true) {
    super('chat', traffic, limits);
    this.registerTimeoutMs = limits.registerTimeoutMs ?? 0;
    this.lineRate = new TokenBuckets(limits.linesPerMinute ?? DEFAULT_LINE_RATE.linesPerMinute, limits.lineBurst ?? DEFAULT_LINE_RATE.lineBurst);
  }

  /** Registered user names, in the order they registered (not the order they connected). */
  users(): string[] {
    return [...this.registered.values()].flatMap((m) => m.user ?? []);
  }

  protected onConnection(conn: Connection): void {
    this.members.set(conn.id, { conn, decoder: new LineDecoder(MAX_LINE_BYTES), user: null });
    this.note({ type: 'connect', connection: conn.id });
    this.tell(conn, 'Welcome to TCP Chat!');
    this.tell(conn, 'Please enter your username:');
    if (this.registerTimeoutMs > 0) {
      const timer = setTimeout(() => {
        if (this.members.get(conn.id)?.user === null) {
          this.dismiss(conn, `Error: no username within ${seconds(this.registerTimeoutMs)}, disconnecting\n`);
        }
      }, this.registerTimeoutMs);
      timer.unref();
      conn.socket.once('close', () => clearTimeout(timer));
    }
  }

  protected onIdle(conn: Connection): void {
    this.dismiss(conn, `Error: idle for ${seconds(this.limits.idleTimeoutMs)}, disconnecting\n`);
  }

  protected onData(conn: Connection, chunk: Buffer): void {
    const member = this.members.get(conn.id);
    if (!member) return;
    let lines: string[];
    try {
      lines = member.decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof LineTooLongError)) throw err;
      this.dismiss(conn, 'Error: line too long\n');
      return;
    }
    for (const line of lines) {
      if (!this.members.has(conn.id) || conn.ended) return; // after /quit or a refused line
      if (!this.lineRate.tryTake(String(conn.id))) {
        this.dismiss(conn, 'Error: too many lines, slow down\n');
        return;
      }
      this.note({ type: 'line', connection: conn.id, user: member.user, line });
      if (member.user === null) this.register(member, line.trim());
      else this.handle(member, line);
    }
  }

  protected onGone(conn: Connection): void {
    const member = this.members.get(conn.id);
    if (!member) return;
    this.members.delete(conn.id);
    this.lineRate.forget(String(conn.id));
    this.note({ type: 'left', connection: conn.id, user: member.user });
    if (member.user === null) return; // never registered: nobody knows about it
    this.registered.delete(member.user.toLowerCase());
    this.broadcast(`* ${member.user} left the chat`);
  }

  private register(member: Member, name: string): void {
    const { conn } = member;
    const characters = [...name].length; // code points, as the lesson counts them: an emoji is one, not two UTF-16 units
    if (characters < 2 || characters > 20) return this.tell(conn, 'Error: username must be 2 to 20 characters long');
    if (/\s/.test(name)) return this.tell(conn, 'Error: username may not contain spaces');
    if (this.find(name)) return this.tell(conn, `Error: username "${name}" is already taken, try another:`);
    member.user = name;
    this.registered.set(name.toLowerCase(), member);
    this.note({ type: 'registered', connection: conn.id, user: name });
    this.tell(conn, `Welcome, ${name}!`);
    this.tell(conn, 'Commands: /users, /whisper <user> <message>, /pm <user> <message>, /help, /quit');
    this.broadcast(`* ${name} joined the chat`, member);
  }

  private handle(member: Member, line: string): void {
    const text = line.trim();
    if (!text) return;
    if (!text.startsWith('/')) return this.broadcast(`${member.user}: ${text}`, member);
    // Only the command word is case-insensitive; the rest keeps its case.
    const [word, ...rest] = text.split(/\s+/);
    const command = word.toLowerCase();
    switch (command) {
      case '/users': {
        const users = this.users();
        return this.tell(member.conn, `Online users (${users.length}): ${users.join(', ')}`);
      }
      case '/help':
        return COMMAND_HELP.forEach((l) => this.tell(member.conn, l));
      case '/whisper':
      case '/pm':
        return this.whisper(member, text.slice(word.length).trim(), rest);
      case '/quit':
        this.tell(member.conn, 'Goodbye!');
        member.conn.end();
        return;
      default:
        return this.tell(member.conn, `Error: unknown command ${word}, type /help for the list`);
    }
  }

  private whisper(member: Member, argText: string, args: string[]): void {
    if (args.length < 2) return this.tell(member.conn, 'Error: usage: /whisper <user> <message>');
    const targetName = args[0];
    const message = argText.slice(targetName.length).trim();
    const target = this.find(targetName);
    if (!target) return this.tell(member.conn, `Error: no user named "${targetName}"`);
    if (target === member) return this.tell(member.conn, 'Error: you cannot whisper to yourself');
    this.tell(target.conn, `[whisper from ${member.user}]: ${message}`);
    this.tell(member.conn, `[whisper to ${target.user}]: ${message}`);
  }

  private find(name: string): Member | undefined {
    return this.registered.get(name.toLowerCase());
  }

  private broadcast(line: string, except?: Member): void {
    for (const m of this.registered.values()) if (m !== except) this.tell(m.conn, line);
  }

  private tell(conn: Connection, line: string): void {
    conn.send(`${line}\n`);
  }

  private note(event: ChatEvent): void {
    if (this.observe) this.seen.push(event);
    this.observer.emit('event', event);
  }
}

function seconds(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 100) / 10} s`;
}
