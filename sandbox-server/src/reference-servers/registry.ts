// Every reference server of the course, one entry each. Adding a server is adding an entry here:
// the configuration (its port variable and default), a run's environment and the services its
// program may reach, /api/health, the grading kit's types and the docs tables all derive from it.
import type net from 'node:net';
import type { ReferenceLimits } from '../config.ts';
import type { TrafficLog } from '../traffic/traffic-log.ts';
import { TcpEchoServer } from './tcp-echo.ts';
import { TcpChatServer } from './tcp-chat.ts';
import { UdpEchoServer } from './udp-echo.ts';
import { WsEchoServer } from './ws-echo.ts';
import { DashboardServer, SHARED_DASHBOARD_OPTIONS } from './dashboard.ts';
import { WsApiServer } from './ws-api.ts';
import { CollabServer } from './collab.ts';
import { SHARED_WS_LIMITS, type WsServerLimits } from './ws-server-base.ts';
import { SHARED_SOCKET_IO_LIMITS, SocketIoReferenceServer } from './socket-io.ts';

/** How a program talks to a server. Every transport but udp is a byte stream over TCP. */
export type Transport = 'tcp' | 'udp' | 'ws' | 'socket.io';

/** What the harness needs of every reference server. */
export interface ReferenceServer {
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/** A server over TCP (tcp, ws, socket.io): it also serves connections relayed from a pod's network. */
export interface StreamReferenceServer extends ReferenceServer {
  acceptSocket(socket: net.Socket): void;
}

export interface DatagramSender {
  address: string;
  port: number;
}

/** A server over UDP: it also serves datagrams relayed from a pod's network. */
export interface DatagramReferenceServer extends ReferenceServer {
  receive(message: Buffer, from: DatagramSender, reply: (message: Buffer) => void): void;
}

export interface CreateOptions {
  /** Set for a run's own servers: every byte, datagram or frame is recorded. */
  traffic?: TrafficLog;
  /** Set for the shared servers (from the configuration); a run's servers use each server's defaults. */
  limits?: ReferenceLimits;
}

interface EntryBase {
  /** Shown in logs and docs, e.g. "TCP echo". */
  title: string;
  /** What it does, one line for the docs. */
  description: string;
  /** The environment variable that tells a program (and the shared server) its port. */
  env: string;
  /** The shared server's port unless `env` says otherwise. */
  defaultPort: number;
  /** The protocol document, relative to the repository root, if it has one. */
  protocol?: string;
}

export type ReferenceServerEntry =
  | (EntryBase & { transport: 'udp'; create(options: CreateOptions): DatagramReferenceServer })
  | (EntryBase & { transport: Exclude<Transport, 'udp'>; create(options: CreateOptions): StreamReferenceServer });

export const REFERENCE_SERVERS = {
  echo: {
    title: 'TCP echo',
    description: 'sends every byte back, in order',
    env: 'ECHO_PORT',
    defaultPort: 7001,
    transport: 'tcp',
    create: ({ traffic, limits }) => new TcpEchoServer(traffic, limits && { maxConnections: limits.maxConnections, idleTimeoutMs: limits.idleTimeoutMs }),
  },
  chat: {
    title: 'TCP chat',
    description: 'a line-based chat: names, broadcasts, /users, /whisper, /quit…',
    env: 'CHAT_PORT',
    defaultPort: 7002,
    transport: 'tcp',
    protocol: 'sandbox-server/src/reference-servers/CHAT-PROTOCOL.md',
    create: ({ traffic, limits }) => new TcpChatServer(traffic, limits, limits === undefined), // the shared one keeps no `seen`
  },
  udpEcho: {
    title: 'UDP echo',
    description: 'sends every datagram back to its sender',
    env: 'UDP_ECHO_PORT',
    defaultPort: 7003,
    transport: 'udp',
    create: ({ traffic }) => new UdpEchoServer(traffic),
  },
  wsEcho: {
    title: 'WebSocket echo',
    description: 'sends every message back (text as text, binary as binary) and answers a close with its code',
    env: 'WS_ECHO_PORT',
    defaultPort: 7004,
    transport: 'ws',
    create: ({ traffic, limits }) => new WsEchoServer(traffic, sharedWsLimits(limits)),
  },
  dashboard: {
    title: 'WebSocket dashboard',
    description: 'broadcasts the metrics each client subscribed to (cpu, memory, load, uptime, connections) every interval, with a snapshot on subscribe',
    env: 'DASHBOARD_PORT',
    defaultPort: 7007,
    transport: 'ws',
    protocol: 'sandbox-server/src/reference-servers/DASHBOARD-PROTOCOL.md',
    // The shared one closes connections subscribed to nothing for the idle timeout and keeps no `seen` list (it runs for days).
    create: ({ traffic, limits }) =>
      limits
        ? new DashboardServer(traffic, sharedWsLimits(limits), { ...SHARED_DASHBOARD_OPTIONS, unsubscribedTimeoutMs: limits.idleTimeoutMs }, false)
        : new DashboardServer(traffic),
  },
  wsApi: {
    title: 'WebSocket JSON API',
    description: 'answers JSON requests {id, op, …} with {id, ok, result or error}; "slow" answers late, so replies come back out of order',
    env: 'WS_API_PORT',
    defaultPort: 7005,
    transport: 'ws',
    protocol: 'sandbox-server/src/reference-servers/WS-API-PROTOCOL.md',
    create: ({ traffic, limits }) => new WsApiServer(traffic, sharedWsLimits(limits)),
  },
  collab: {
    title: 'Collaborative documents',
    description: 'shared plain-text documents over JSON: join, sync, versioned edits (stale ones rejected), cursors, presence',
    env: 'COLLAB_PORT',
    defaultPort: 7006,
    transport: 'ws',
    protocol: 'sandbox-server/src/reference-servers/COLLAB-PROTOCOL.md',
    create: ({ traffic, limits }) => new CollabServer(traffic, sharedWsLimits(limits), limits === undefined), // the shared one keeps no `seen`
  },
  socketIo: {
    title: 'Socket.IO',
    description: 'a named handshake, acknowledged events (echo, whoami, slow, silent), rooms with members and messages, connection state recovery',
    env: 'SOCKET_IO_PORT',
    defaultPort: 7008,
    transport: 'socket.io',
    protocol: 'sandbox-server/src/reference-servers/SOCKET-IO-PROTOCOL.md',
    create: ({ traffic, limits }) =>
      limits
        ? new SocketIoReferenceServer(traffic, { ...SHARED_SOCKET_IO_LIMITS, maxConnections: limits.maxConnections, idleTimeoutMs: limits.idleTimeoutMs }, false)
        : new SocketIoReferenceServer(traffic),
  },
} as const satisfies Record<string, ReferenceServerEntry>;

/** A shared WebSocket server's limits: the configuration's caps and idle timeout, and the shared strictness. */
function sharedWsLimits(limits: ReferenceLimits | undefined): Partial<WsServerLimits> | undefined {
  return limits && { ...SHARED_WS_LIMITS, maxConnections: limits.maxConnections, idleTimeoutMs: limits.idleTimeoutMs };
}

type Registry = typeof REFERENCE_SERVERS;
export type ReferenceServerName = keyof Registry;
/** The server class an entry creates, e.g. TcpChatServer for "chat". */
export type ReferenceServerOf<N extends ReferenceServerName> = ReturnType<Registry[N]['create']>;
/** Names of the servers a program reaches over TCP. */
export type StreamServerName = { [N in ReferenceServerName]: Registry[N]['transport'] extends 'udp' ? never : N }[ReferenceServerName];
/** Names of the servers over plain TCP, whose connections a grading test can watch and shape. */
export type TcpServerName = { [N in ReferenceServerName]: Registry[N]['transport'] extends 'tcp' ? N : never }[ReferenceServerName];

export const REFERENCE_SERVER_NAMES = Object.keys(REFERENCE_SERVERS) as ReferenceServerName[];

export function referenceServerEntry(name: ReferenceServerName): ReferenceServerEntry {
  return REFERENCE_SERVERS[name];
}

/** The environment variables a program gets for a set of servers on these ports. */
export function referenceEnvironment(ports: Record<ReferenceServerName, number>): Record<string, string> {
  return Object.fromEntries(REFERENCE_SERVER_NAMES.map((name) => [REFERENCE_SERVERS[name].env, String(ports[name])]));
}
