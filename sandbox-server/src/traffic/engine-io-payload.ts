// Reads the body of an Engine.IO long-polling request or response as it passes: Engine.IO 4 joins
// the packets of one body with the record separator (0x1e), which JSON never leaves raw and UTF-8
// never uses inside a character, and sends binary data as "b" and its base64 (polling carries text).
// Like the frame parser it keeps the first `keepBytes` of each packet and only counts the rest, so a
// body of any size costs the trusted side no more than that.

const SEPARATOR = 0x1e;

/** One packet of a polling body, as the tap keeps it. */
export interface PollingPacket {
  /** Its place in the body, from 1. */
  index: number;
  /** Its first bytes (at most keepBytes; all of it when `payload.length === length`), as written ("b…" for binary data). */
  payload: Buffer;
  /** Its exact length in the body. */
  length: number;
  /** "b" + base64: binary data. */
  binary: boolean;
}

/** Whether a request target is an Engine.IO 4 long-polling request (any path: Socket.IO's is configurable). */
export function isEngineIoPolling(target: string): boolean {
  const query = target.indexOf('?');
  if (query === -1) return false;
  const params = new URLSearchParams(target.slice(query + 1));
  return params.get('EIO') === '4' && params.get('transport') === 'polling';
}

/** The Engine.IO session a polling request belongs to (its `sid`), unless it opens one. */
export function engineIoSession(target: string): string | undefined {
  const query = target.indexOf('?');
  return query === -1 ? undefined : (new URLSearchParams(target.slice(query + 1)).get('sid') ?? undefined);
}

export class EngineIoPayloadReader {
  private index = 1;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  private length = 0;
  private started = false;

  constructor(private readonly keepBytes = 1024) {}

  /** Packets completed by `bytes` (every one a separator ends). */
  push(bytes: Buffer): PollingPacket[] {
    const packets: PollingPacket[] = [];
    let rest = bytes;
    while (rest.length > 0) {
      this.started = true;
      const end = rest.indexOf(SEPARATOR);
      this.keep(end === -1 ? rest : rest.subarray(0, end));
      if (end === -1) break;
      packets.push(this.finish());
      rest = rest.subarray(end + 1);
      this.started = true; // a separator always has a packet after it, if only an empty one
    }
    return packets;
  }

  /** The body ended: its last packet (none if the body was empty). */
  end(): PollingPacket[] {
    return this.started ? [this.finish()] : [];
  }

  private keep(bytes: Buffer): void {
    const room = this.keepBytes - this.keptBytes;
    if (room > 0 && bytes.length > 0) {
      const part = Buffer.from(bytes.subarray(0, room));
      this.kept.push(part);
      this.keptBytes += part.length;
    }
    this.length += bytes.length;
  }

  private finish(): PollingPacket {
    const payload = Buffer.concat(this.kept);
    const packet = { index: this.index++, payload, length: this.length, binary: payload[0] === 0x62 /* "b" */ };
    this.kept = [];
    this.keptBytes = 0;
    this.length = 0;
    this.started = false;
    return packet;
  }
}
