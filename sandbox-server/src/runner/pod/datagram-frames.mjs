// Datagrams carried on a stream (a unix socket between a pod and the host; node has no unix
// datagram sockets). Each frame: 2 bytes of UDP port (the sender's on the way out of the pod, the
// receiver's on the way in), 2 bytes of length, the payload. Both sides import this file: the pod's
// relay (plain JavaScript, inside the sandbox) and the host (pod.ts).

/** The largest UDP payload over IPv4. */
export const MAX_DATAGRAM_BYTES = 65_507;

/** One frame for `payload` (which must fit a UDP datagram). */
export function encodeDatagramFrame(port, payload) {
  const frame = Buffer.allocUnsafe(4 + payload.length);
  frame.writeUInt16BE(port, 0);
  frame.writeUInt16BE(payload.length, 2);
  payload.copy(frame, 4);
  return frame;
}

/** Splits a stream of frames back into datagrams, across any chunk boundaries. */
export class DatagramFrameReader {
  #pending = Buffer.alloc(0);

  /** The datagrams completed by `chunk`; a partial frame is kept (at most one datagram's size). */
  push(chunk) {
    let buffer = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const datagrams = [];
    while (buffer.length >= 4) {
      const length = buffer.readUInt16BE(2);
      if (buffer.length < 4 + length) break;
      datagrams.push({ port: buffer.readUInt16BE(0), payload: Buffer.from(buffer.subarray(4, 4 + length)) });
      buffer = buffer.subarray(4 + length);
    }
    this.#pending = Buffer.from(buffer);
    return datagrams;
  }
}
