// The course's collaborative document server (COLLAB-PROTOCOL.md): one document per `doc` name,
// edits put in one order by the server and numbered, stale edits rejected, presence and cursors
// broadcast. It trusts nothing a client sends (names, positions, sizes are checked) and reports
// what it saw (connections, messages, joins, edits, errors, departures, closes) so graders can
// judge a learner's client by its effect on the server.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { TrafficLog } from '../traffic/traffic-log.ts';
import { CollabDocument, COLLAB_LIMITS, moveCursor, type EditOp } from './collab-document.ts';
import { ReferenceWebSocketServer, type WsConnection, type WsServerLimits } from './ws-server-base.ts';

export type CollabEvent =
  | { type: 'connect'; connection: number; doc: string }
  | { type: 'message'; connection: number; text: string; isBinary: boolean }
  | { type: 'joined'; connection: number; doc: string; id: string; name: string }
  | { type: 'edit'; connection: number; doc: string; version: number; op: EditOp }
  | { type: 'error'; connection: number; code: string }
  | { type: 'left'; connection: number; doc: string; id: string; name: string }
  | { type: 'close'; connection: number; code: number; reason: string };

export interface CollabLimits extends WsServerLimits {
  /** Documents open at once; a connection to one more is closed with 1013. */
  maxDocuments: number;
  /** Connections per document; one more is closed with 1013. */
  maxPerDocument: number;
}

export const DEFAULT_COLLAB_LIMITS = { maxDocuments: 64, maxPerDocument: 32 };

/** `doc` names: what the protocol allows. */
const DOC_NAME = /^[A-Za-z0-9_-]{1,40}$/;
const DEFAULT_DOC = 'main';
/** Text shown in `seen` per message, at most. */
const SEEN_TEXT = 2000;

interface User {
  id: string;
  name: string;
  cursor: number | null;
}

interface Member {
  conn: WsConnection;
  room: Room;
  user?: User;
}

interface Room {
  name: string;
  doc: CollabDocument;
  /** Every connection to this document, joined or not. */
  connections: Set<Member>;
  /** Joined members, in join order (a Map iterates in insertion order). */
  joined: Map<string, Member>;
}

type ErrorCode = 'bad_json' | 'bad_message' | 'not_joined' | 'already_joined' | 'bad_name' | 'stale' | 'out_of_range' | 'too_large';

export class CollabServer extends ReferenceWebSocketServer {
  /** Every CollabEvent is emitted as 'event' and, when observing, kept in `seen`. */
  readonly observer = new EventEmitter();
  readonly seen: CollabEvent[] = [];
  private readonly rooms = new Map<string, Room>();
  private readonly members = new Map<number, Member>();
  private readonly maxDocuments: number;
  private readonly maxPerDocument: number;

  /**
   * @param observe keep every event in `seen` (a run's server, watched by one grade); the shared
   * server runs for days and keeps nothing.
   */
  constructor(traffic?: TrafficLog, limits: Partial<CollabLimits> = {}, private readonly observe = true) {
    super('collab', traffic, { maxMessageBytes: COLLAB_LIMITS.maxMessageBytes, ...limits });
    this.maxDocuments = limits.maxDocuments ?? DEFAULT_COLLAB_LIMITS.maxDocuments;
    this.maxPerDocument = limits.maxPerDocument ?? DEFAULT_COLLAB_LIMITS.maxPerDocument;
  }

  /** A document's text and version now (undefined if nobody is connected to it). */
  document(name = DEFAULT_DOC): { text: string; version: number } | undefined {
    const room = this.rooms.get(name);
    return room && { text: room.doc.text, version: room.doc.version };
  }

  protected onConnection(conn: WsConnection, req: http.IncomingMessage): void {
    conn.ws.on('close', (code: number, reason: Buffer) => this.note({ type: 'close', connection: conn.id, code, reason: reason.toString('utf8') }));
    const name = docName(req.url);
    if (name === undefined) return conn.close(1008, 'doc must be 1 to 40 letters, digits, "-" or "_"');
    let room = this.rooms.get(name);
    if (!room) {
      if (this.rooms.size >= this.maxDocuments) return conn.close(1013, 'too many documents open, try again later');
      room = { name, doc: new CollabDocument(), connections: new Set(), joined: new Map() };
      this.rooms.set(name, room);
    }
    if (room.connections.size >= this.maxPerDocument) return conn.close(1013, 'this document is full, try again later');
    const member: Member = { conn, room };
    room.connections.add(member);
    this.members.set(conn.id, member);
    this.note({ type: 'connect', connection: conn.id, doc: name });
  }

  protected onMessage(conn: WsConnection, data: Buffer, isBinary: boolean): void {
    const member = this.members.get(conn.id);
    if (!member) return; // refused at connection; its close is under way
    this.note({ type: 'message', connection: conn.id, text: data.toString('utf8').slice(0, SEEN_TEXT), isBinary });
    if (isBinary) return this.refuse(member, 'bad_message', 'send text messages of JSON, not binary ones');
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      return this.refuse(member, 'bad_json', 'that message is not valid JSON');
    }
    if (!isObject(message) || typeof message.type !== 'string') return this.refuse(member, 'bad_message', 'a message is a JSON object with a "type"');
    switch (message.type) {
      case 'join':
        return this.join(member, message);
      case 'edit':
        return this.edit(member, message);
      case 'cursor':
        return this.cursor(member, message);
      case 'leave':
        return conn.close(1000, 'bye');
      default:
        return this.refuse(member, 'bad_message', `unknown message type ${JSON.stringify(message.type.slice(0, 40))}: use join, edit, cursor or leave`);
    }
  }

  protected onGone(conn: WsConnection): void {
    const member = this.members.get(conn.id);
    if (!member) return;
    this.members.delete(conn.id);
    const { room, user } = member;
    room.connections.delete(member);
    if (user) {
      room.joined.delete(user.id);
      this.note({ type: 'left', connection: conn.id, doc: room.name, id: user.id, name: user.name });
      this.broadcast(room, member, { type: 'left', user: { id: user.id, name: user.name } });
    }
    if (room.connections.size === 0) this.rooms.delete(room.name);
  }

  private join(member: Member, message: Record<string, unknown>): void {
    if (member.user) return this.refuse(member, 'already_joined', 'you have joined already');
    const problem = nameProblem(message.name);
    if (problem) return this.refuse(member, 'bad_name', problem);
    const { room, conn } = member;
    const user: User = { id: randomUUID(), name: message.name as string, cursor: null };
    member.user = user;
    room.joined.set(user.id, member);
    this.note({ type: 'joined', connection: conn.id, doc: room.name, id: user.id, name: user.name });
    const users = [...room.joined.values()].map((m) => ({ ...m.user! }));
    conn.send({ type: 'sync', you: user.id, doc: room.name, version: room.doc.version, text: room.doc.text, users });
    this.broadcast(room, member, { type: 'joined', user: { ...user } });
  }

  private edit(member: Member, message: Record<string, unknown>): void {
    const { user, room, conn } = member;
    if (!user) return this.refuse(member, 'not_joined', 'send {"type":"join","name":…} first');
    const { baseVersion, op } = message;
    if (!isCount(baseVersion) || !isObject(op) || !isCount(op.pos) || !isCount(op.delete) || typeof op.insert !== 'string') {
      return this.refuse(member, 'bad_message', 'an edit is {"type":"edit","baseVersion":<n>,"op":{"pos":<n>,"delete":<n>,"insert":"…"}} with whole numbers ≥ 0');
    }
    if (op.delete === 0 && op.insert === '') return this.refuse(member, 'bad_message', 'this edit changes nothing: delete something or insert something');
    if (/\p{Cs}/u.test(op.insert)) return this.refuse(member, 'bad_message', 'insert holds a lone surrogate, which is not text');
    const edit: EditOp = { pos: op.pos, delete: op.delete, insert: op.insert };
    const refusal = room.doc.refusal(baseVersion, edit);
    if (refusal) return this.refuse(member, refusal.code, refusal.message, refusal.code === 'stale' ? { version: refusal.version } : {});
    const version = room.doc.apply(edit);
    for (const m of room.joined.values()) {
      if (m.user!.cursor !== null) m.user!.cursor = moveCursor(m.user!.cursor, edit);
    }
    this.note({ type: 'edit', connection: conn.id, doc: room.name, version, op: edit });
    conn.send({ type: 'ack', version });
    this.broadcast(room, member, { type: 'edit', version, author: user.id, op: edit });
  }

  private cursor(member: Member, message: Record<string, unknown>): void {
    const { user, room } = member;
    if (!user) return this.refuse(member, 'not_joined', 'send {"type":"join","name":…} first');
    const { pos } = message;
    if (!isCount(pos)) return this.refuse(member, 'bad_message', 'a cursor is {"type":"cursor","pos":<n>} with a whole number ≥ 0');
    if (pos > room.doc.length) return this.refuse(member, 'out_of_range', `pos ${pos} is past the end of the document (${room.doc.length} code points)`);
    user.cursor = pos;
    this.broadcast(room, member, { type: 'cursor', id: user.id, pos });
  }

  /** To every joined member of the room but `except`. */
  private broadcast(room: Room, except: Member, message: object): void {
    const text = JSON.stringify(message);
    for (const m of room.joined.values()) if (m !== except) m.conn.send(text);
  }

  private refuse(member: Member, code: ErrorCode, message: string, extra: object = {}): void {
    this.note({ type: 'error', connection: member.conn.id, code });
    member.conn.send({ type: 'error', code, message, ...extra });
  }

  private note(event: CollabEvent): void {
    if (this.observe) this.seen.push(event);
    this.observer.emit('event', event);
  }
}

/** The document a request names in its `doc` query parameter ("main" without one); undefined if the name is not allowed. */
function docName(url: string | undefined): string | undefined {
  let doc: string | null;
  try {
    doc = new URL(url ?? '/', 'http://localhost').searchParams.get('doc');
  } catch {
    return undefined;
  }
  if (doc === null || doc === '') return DEFAULT_DOC;
  return DOC_NAME.test(doc) ? doc : undefined;
}

/** Why `name` is not a valid user name, or undefined. */
function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'name must be a string';
  const length = [...name].length;
  if (length < 1 || length > COLLAB_LIMITS.maxName) return `name must be 1 to ${COLLAB_LIMITS.maxName} characters (code points), not ${length}`;
  if (name.trim() === '') return 'name must not be only whitespace';
  if (/\p{Cc}|\p{Cs}/u.test(name)) return 'name must not contain control characters or lone surrogates';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A whole number ≥ 0 (JSON's 3.0 is 3; 3.5, -1, "3" and 1e300 are not). */
function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
