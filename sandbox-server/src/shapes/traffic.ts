// The traffic of one run or grade as it leaves the server: what the sequence diagram under each
// Playground and in the Exercise panel is drawn from, streamed over the editor socket while the run
// goes ("traffic" messages) and sent whole in the JSON result of POST /api/run and of a submission
// (`traffic`). Every payload is a bounded preview (its byte length is always exact); what the server
// left out is said: `truncated` and `omittedEvents`. Browser-safe (no node: imports): the site
// imports its types.
import { z } from 'zod';

/** The most bytes of one payload a traffic event carries (as text when valid UTF-8, else as hex). */
export const TRAFFIC_PREVIEW_BYTES = 256;
/** The most events one run's traffic carries; later ones are counted in `omittedEvents`. */
export const TRAFFIC_MAX_EVENTS = 2000;
/** The most characters of a Socket.IO packet's arguments shown (as JSON). */
export const TRAFFIC_ARGS_CHARS = 300;

export const trafficDirectionSchema = z.enum(['to-learner', 'from-learner']);

/** One side of the conversation besides the learner's program. */
export const trafficEndpointSchema = z.strictObject({
  /** As events name it: "echo", "chat", "udp-echo", "grader:alice", … */
  name: z.string(),
  /** server: a reference server (the program, or a grader's client, connects to it); grader: a client of the grading tests (it connects to the program, or to a server: see the events' `peer`). */
  role: z.enum(['server', 'grader']),
  /** How it talks, when known: tcp, udp, ws or socket.io. */
  transport: z.enum(['tcp', 'udp', 'ws', 'socket.io']).optional(),
  /** e.g. "TCP echo" (servers only). */
  title: z.string().optional(),
});

/** The first bytes of a payload: `text` when they are valid UTF-8, otherwise `hex`. */
export const trafficPreviewSchema = z.strictObject({
  text: z.string().optional(),
  hex: z.string().optional(),
  /** How many of the payload's bytes the preview holds (at most TRAFFIC_PREVIEW_BYTES). */
  bytes: z.number().int().nonnegative(),
});

export const webSocketFrameInfoSchema = z.strictObject({
  opcode: z.number().int(),
  /** text, binary, continuation, close, ping, pong or reserved. */
  kind: z.string(),
  fin: z.boolean(),
  masked: z.boolean(),
  /** RSV1-3 bits (non-zero with an extension such as permessage-deflate). */
  rsv: z.number().int(),
  closeCode: z.number().int().optional(),
  closeReason: z.string().optional(),
});

export const SOCKET_IO_PACKET_TYPES = ['CONNECT', 'DISCONNECT', 'EVENT', 'ACK', 'CONNECT_ERROR', 'BINARY_EVENT', 'BINARY_ACK'] as const;

/**
 * What a WebSocket message of a Socket.IO connection, or a packet of a long-polling body, carried:
 * an Engine.IO packet, and in a message a Socket.IO packet.
 */
export const socketIoInfoSchema = z.strictObject({
  /** The Engine.IO packet type: open, close, ping, pong, message, upgrade, noop. */
  engineIo: z.string().optional(),
  /** Engine.IO data besides a Socket.IO packet, e.g. the open packet's JSON or a ping's "probe". */
  engineIoData: z.string().optional(),
  socketIo: z
    .strictObject({
      type: z.enum(SOCKET_IO_PACKET_TYPES),
      namespace: z.string(),
      event: z.string().optional(),
      /** The arguments (or the CONNECT's auth, the ACK's values, the error) as JSON, cut at TRAFFIC_ARGS_CHARS with "…". */
      args: z.string().optional(),
      ackId: z.number().int().optional(),
      /** A binary packet's number of binary attachments (each sent after it: over WebSocket as a binary frame, over polling as a "b" packet). */
      attachments: z.number().int().optional(),
    })
    .optional(),
  /** For a binary frame that is an attachment of the binary packet before it: which one (1-based) of how many. */
  attachment: z.strictObject({ index: z.number().int().positive(), of: z.number().int().positive() }).optional(),
  /** Why this could not be read as Engine.IO/Socket.IO (then it is shown as plain bytes). */
  error: z.string().optional(),
});

/** Where a packet of an HTTP long-polling body was (kind "packet"). */
export const pollingPacketInfoSchema = z.strictObject({
  /** Its place in the body, from 1: Engine.IO joins the packets of one body with the record separator (0x1e). */
  index: z.number().int().positive(),
  /** Binary data, which polling sends as text: "b" and the bytes in base64. */
  binary: z.boolean(),
});

export const TRAFFIC_EVENT_KINDS = ['open', 'data', 'datagram', 'end', 'close', 'handshake', 'http', 'frame', 'packet'] as const;

export const trafficEventSchema = z.strictObject({
  /** Position in the run's log, from 0 (stable across streamed batches: a link target). */
  seq: z.number().int().nonnegative(),
  /** Milliseconds since the run started. */
  t: z.number().nonnegative(),
  endpoint: z.string(),
  /** The connection's number in this run (a datagram exchange has its own). */
  connection: z.number().int(),
  /**
   * On every event of a grader client's connection to one of the run's reference servers (not to
   * the program): that server's endpoint name. The conversation is between the two; its directions
   * are the grader's (from-learner: what the grader received, to-learner: what it sent).
   */
  peer: z.string().optional(),
  /**
   * open: a connection was made; data: one TCP chunk as it arrived (one 'data' event); datagram: one
   * UDP datagram; end: a half-close (FIN); close: the connection closed; handshake: the head of an
   * HTTP upgrade request or of its answer (the 101, or a refusal); http: the head of any other HTTP/1.1
   * request or response (e.g. Engine.IO long-polling's GETs and POSTs), read on the connections of the
   * WebSocket and Socket.IO servers and clients; frame: one WebSocket frame; packet: one Engine.IO
   * packet of a long-polling request's or response's body (see `polling`, `socketIo`). The chunks
   * that carried a head, frame or packet are events of their own as well.
   */
  kind: z.enum(TRAFFIC_EVENT_KINDS),
  direction: trafficDirectionSchema.optional(),
  /** The payload's exact length in bytes (a frame's: as its header declares; a packet's: in its body). */
  bytes: z.number().int().nonnegative().optional(),
  preview: trafficPreviewSchema.optional(),
  websocket: webSocketFrameInfoSchema.optional(),
  polling: pollingPacketInfoSchema.optional(),
  socketIo: socketIoInfoSchema.optional(),
});

/** When one grading test ran, so a failing test can point at its part of the diagram. */
export const trafficMarkSchema = z.strictObject({
  /** The test's name as the verdict gives it ("describe > it"). */
  test: z.string(),
  start: z.number().nonnegative(),
  /** Missing while the test still runs. */
  end: z.number().nonnegative().optional(),
});

export const trafficSchema = z.strictObject({
  endpoints: z.array(trafficEndpointSchema),
  events: z.array(trafficEventSchema),
  marks: z.array(trafficMarkSchema),
  /**
   * True when not everything was recorded or sent: the run's log stopped recording at its cap, or
   * past TRAFFIC_MAX_EVENTS events (counted in omittedEvents).
   */
  truncated: z.boolean(),
  omittedEvents: z.number().int().nonnegative(),
  /** Plain words for what `truncated` means here, when it is true. */
  note: z.string().optional(),
});

export type TrafficDirection = z.infer<typeof trafficDirectionSchema>;
export type TrafficEndpoint = z.infer<typeof trafficEndpointSchema>;
export type TrafficPreview = z.infer<typeof trafficPreviewSchema>;
export type SocketIoInfo = z.infer<typeof socketIoInfoSchema>;
export type PollingPacketInfo = z.infer<typeof pollingPacketInfoSchema>;
export type TrafficEventKind = z.infer<typeof trafficEventSchema>['kind'];
export type TrafficWireEvent = z.infer<typeof trafficEventSchema>;
export type TrafficMark = z.infer<typeof trafficMarkSchema>;
export type Traffic = z.infer<typeof trafficSchema>;
