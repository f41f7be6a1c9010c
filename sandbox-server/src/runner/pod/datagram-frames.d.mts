// Types for datagram-frames.mjs (plain JavaScript, because the pod runs it as it is).
export declare const MAX_DATAGRAM_BYTES: number;
export declare function encodeDatagramFrame(port: number, payload: Buffer): Buffer;
export declare class DatagramFrameReader {
  push(chunk: Buffer): Array<{ port: number; payload: Buffer }>;
}
