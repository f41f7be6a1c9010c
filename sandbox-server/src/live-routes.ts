// The one router for every upgrade request the course's own HTTP server receives: /api/ws goes to
// the editor socket, /live/<registry name> to that shared WebSocket reference server (so a lesson
// page reaches it at ws(s)://<site host>/live/wsEcho without knowing its port), and anything else
// is refused with 404 and a sentence saying where WebSockets are served. One 'upgrade' listener,
// so no two handlers ever race to answer the same socket.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { clientIp } from './api/rate-limit.ts';
import { REFERENCE_SERVERS, REFERENCE_SERVER_NAMES, type ReferenceServerName, type ReferenceServers } from './reference-servers/index.ts';
import { ReferenceWebSocketServer } from './reference-servers/ws-server-base.ts';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export const LIVE_PATH_PREFIX = '/live/';

type Registry = typeof REFERENCE_SERVERS;
/** Registry names of the WebSocket servers, the ones a browser can reach under /live/. */
export type LiveServerName = { [N in ReferenceServerName]: Registry[N]['transport'] extends 'ws' ? N : never }[ReferenceServerName];

export const LIVE_SERVER_NAMES = REFERENCE_SERVER_NAMES.filter((name) => REFERENCE_SERVERS[name].transport === 'ws') as LiveServerName[];

/** The path a browser uses for a shared WebSocket server, e.g. "/live/wsEcho". */
export function livePath(name: LiveServerName): string {
  return `${LIVE_PATH_PREFIX}${name}`;
}

/** The request's path without its query: never throws, whatever the request line held. */
function pathOf(url: string | undefined): string {
  return (url ?? '/').split(/[?#]/, 1)[0];
}

export class UpgradeRouter {
  private readonly routes = new Map<string, UpgradeHandler>();

  add(path: string, handler: UpgradeHandler): this {
    if (this.routes.has(path)) throw new Error(`Two upgrade handlers for ${path}`);
    this.routes.set(path, handler);
    return this;
  }

  get paths(): string[] {
    return [...this.routes.keys()];
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.route(req, socket, head));
  }

  route(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {}); // a client that resets mid-handshake
    const path = pathOf(req.url);
    const handler = this.routes.get(path);
    if (handler) return handler(req, socket, head);
    const body = `There is no WebSocket endpoint at ${path}. This server accepts WebSocket connections at ${this.paths.join(', ')}.\n`;
    socket.end(
      `HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
}

/**
 * Adds a route for each shared WebSocket server: the request goes to that server's own caps
 * (connections, per IP), with the client's IP as the API sees it (behind TRUST_PROXY_HOPS proxies,
 * from X-Forwarded-For), not the proxy's.
 */
export function addLiveRoutes(router: UpgradeRouter, shared: ReferenceServers, trustProxyHops: number): void {
  for (const name of LIVE_SERVER_NAMES) {
    const server: unknown = shared[name];
    if (!(server instanceof ReferenceWebSocketServer)) {
      throw new Error(`Reference server "${name}" is registered as a WebSocket server but does not extend ReferenceWebSocketServer, so it cannot be routed`);
    }
    router.add(livePath(name), (req, socket, head) => server.handleUpgrade(req, socket, head, clientIp(req, trustProxyHops)));
  }
}
