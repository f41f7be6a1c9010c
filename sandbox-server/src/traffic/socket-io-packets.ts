// Reads the WebSocket messages of a Socket.IO connection, and the packets of its long-polling
// bodies, as what they are: Engine.IO packets (open, ping, pong, message…) and, inside a message,
// Socket.IO packets (CONNECT with its auth, EVENT with its name, arguments and ack id, ACK, binary
// packets and their attachments). The parsing is
// socket.io's own (engine.io-parser, socket.io-parser), so a learner sees what an emit really sends,
// as the other side reads it. Used when a log is serialized, not while it is recorded: recording
// stays cheap, and only what is shown is decoded.
import { decodePacket } from 'engine.io-parser';
import { Decoder } from 'socket.io-parser';
import { SOCKET_IO_PACKET_TYPES, TRAFFIC_ARGS_CHARS, type SocketIoInfo } from '../shapes/traffic.ts';

type SocketIoPacketInfo = NonNullable<SocketIoInfo['socketIo']>;

/** An upgrade request whose query names an Engine.IO protocol version: a Socket.IO (or bare Engine.IO) connection. */
export function isEngineIoRequest(head: string): boolean {
  return /^GET \S*[?&]EIO=\d/.test(head);
}

/** One message (or polling packet) as the tap kept it: the first bytes of its payload and its length. */
export interface RecordedMessage {
  binary: boolean;
  /** The payload's first bytes (all of it when `payload.length === length`). */
  payload: Buffer;
  length: number;
}

/**
 * Decodes the messages of one direction of one connection (or of one polling session), in order: a
 * binary packet announces how many binary messages follow it, and those are shown as its attachments.
 */
export class SocketIoMessageDecoder {
  private attachments?: { next: number; of: number };

  decode(message: RecordedMessage): SocketIoInfo {
    if (message.binary) return this.decodeBinary();
    const info = decodeText(message);
    const attachments = info.socketIo?.attachments;
    this.attachments = attachments ? { next: 1, of: attachments } : undefined;
    return info;
  }

  private decodeBinary(): SocketIoInfo {
    const pending = this.attachments;
    if (!pending) return { engineIo: 'message', error: 'binary data that no binary packet announced' };
    const attachment = { index: pending.next, of: pending.of };
    pending.next += 1;
    if (pending.next > pending.of) this.attachments = undefined;
    return { engineIo: 'message', attachment };
  }
}

function decodeText(message: RecordedMessage): SocketIoInfo {
  const text = message.payload.toString('utf8');
  if (message.payload.length < message.length) return partialInfo(text, message);
  const engine = decodePacket(text, 'nodebuffer');
  if (engine.type === 'error') return { error: 'not an Engine.IO packet (its first character is not a packet type 0-6)' };
  if (engine.type !== 'message') return { engineIo: engine.type, ...(typeof engine.data === 'string' && engine.data && { engineIoData: engine.data }) };
  const decoded = decodeSocketIoPacket(String(engine.data ?? ''));
  if ('error' in decoded) return { engineIo: 'message', error: decoded.error };
  return { engineIo: 'message', socketIo: decoded };
}

/** A marker for each binary attachment while a binary packet is put together, so its place shows in the arguments. */
class AttachmentMarker {
  constructor(readonly num: number) {}
}

/** One Socket.IO packet (the data of an Engine.IO message), or why it is not one. */
export function decodeSocketIoPacket(text: string): SocketIoPacketInfo | { error: string } {
  const decoder = new Decoder();
  let packet: { type: number; nsp: string; id?: number; data?: unknown; attachments?: number } | undefined;
  decoder.on('decoded', (p) => (packet = p));
  const wireType = SOCKET_IO_PACKET_TYPES[Number(text.charAt(0))];
  const markers: AttachmentMarker[] = [];
  try {
    decoder.add(text);
    // A binary packet is complete once its attachments came: hand it markers in their place.
    const announced = /^[56](\d+)-/.exec(text);
    if (!packet && announced) {
      for (let num = 0; num < Number(announced[1]); num++) {
        const marker = new AttachmentMarker(num);
        markers.push(marker);
        decoder.add(Object.assign(Buffer.alloc(0), { marker }));
      }
    }
  } catch (err) {
    return { error: `not a valid Socket.IO packet: ${(err as Error).message}` };
  } finally {
    decoder.destroy();
  }
  if (!packet || !wireType) return { error: 'not a valid Socket.IO packet' };
  const info: SocketIoPacketInfo = { type: wireType, namespace: packet.nsp };
  if (packet.id !== undefined) info.ackId = packet.id;
  if (markers.length > 0) info.attachments = markers.length;
  const data = packet.data;
  if ((wireType === 'EVENT' || wireType === 'BINARY_EVENT') && Array.isArray(data)) {
    info.event = String(data[0]);
    info.args = previewJson(data.slice(1));
  } else if (data !== undefined) {
    info.args = previewJson(data);
  }
  return info;
}

/** JSON of a packet's data, with each binary attachment shown as socket.io sends it (a placeholder), cut to TRAFFIC_ARGS_CHARS. */
function previewJson(value: unknown): string {
  const json =
    JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
      const original = this[key] as { marker?: AttachmentMarker } | undefined;
      return original && Buffer.isBuffer(original) && original.marker ? { _placeholder: true, num: original.marker.num } : v;
    }) ?? 'undefined';
  return json.length > TRAFFIC_ARGS_CHARS ? `${json.slice(0, TRAFFIC_ARGS_CHARS)}…` : json;
}

/**
 * What can be said of a message of which only the first bytes were kept: its packet types, and of a
 * Socket.IO packet its namespace, ack id and event name (the header before the JSON is read whole).
 */
function partialInfo(text: string, message: RecordedMessage): SocketIoInfo {
  const error = `only the first ${message.payload.length} of its ${message.length} bytes were recorded, so its data is not decoded`;
  const engine = decodePacket(text.charAt(0), 'nodebuffer');
  if (engine.type === 'error') return { error };
  if (engine.type !== 'message') return { engineIo: engine.type, error };
  const body = text.slice(1);
  const jsonAt = body.search(/[[{"]/);
  const header = decodeSocketIoPacket(jsonAt === -1 ? body : body.slice(0, jsonAt));
  if ('error' in header) return { engineIo: 'message', error };
  const name = /^\["((?:[^"\\]|\\.)*)"/.exec(jsonAt === -1 ? '' : body.slice(jsonAt));
  if (name && (header.type === 'EVENT' || header.type === 'BINARY_EVENT')) header.event = jsonString(name[1]);
  return { engineIo: 'message', socketIo: header, error };
}

/** The value of a JSON string literal's body, or the body as it is when it does not parse. */
function jsonString(body: string): string {
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    return body;
  }
}
