// The course server's one upgrade router, black-box against the real server process: the shared
// WebSocket reference servers under /live/<name> on the main port, with the API's view of the
// client's IP (TRUST_PROXY_HOPS=1 here, so X-Forwarded-For counts); a clear 404 for any other path;
// the editors' socket at /api/ws unaffected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import WebSocket from 'ws';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { openEditorSocket } from './support/editor-socket.ts';
import { LIVE_SERVER_NAMES, UpgradeRouter } from '../src/live-routes.ts';
import { SHARED_WS_LIMITS } from '../src/reference-servers/ws-server-base.ts';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess({ LOG_REQUESTS: '0', TRUST_PROXY_HOPS: '1' });
});
afterAll(async () => {
  await server?.stop();
});

const wsUrl = (path: string) => server.url.replace(/^http/, 'ws') + path;

/** Opens a WebSocket, or rejects with the HTTP status and body the upgrade was refused with. */
function open(path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(path), { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req: http.ClientRequest, res: http.IncomingMessage) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary }));
    ws.once('close', (code) => reject(new Error(`closed with ${code} before a message`)));
  });
}

function closeAll(sockets: WebSocket[]): Promise<void> {
  return Promise.all(
    sockets.map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.once('close', () => resolve());
      ws.terminate();
    })),
  ).then(() => {});
}

describe('/live/<name>: the shared WebSocket servers on the main port', () => {
  it('routes every WebSocket server of the registry (wsEcho among them)', () => {
    expect(LIVE_SERVER_NAMES).toContain('wsEcho');
    expect(LIVE_SERVER_NAMES).not.toContain('echo'); // a TCP server has no upgrade to route
  });

  it('/live/wsEcho reaches the shared echo: text comes back as text, binary as binary', async () => {
    const ws = await open('/live/wsEcho');
    try {
      ws.send('hello through the route');
      const text = await nextMessage(ws);
      expect({ text: text.data.toString(), isBinary: text.isBinary }).toEqual({ text: 'hello through the route', isBinary: false });
      ws.send(Buffer.from([0, 1, 2, 255]));
      const binary = await nextMessage(ws);
      expect({ bytes: [...binary.data], isBinary: binary.isBinary }).toEqual({ bytes: [0, 1, 2, 255], isBinary: true });
    } finally {
      await closeAll([ws]);
    }
  });

  it('a query string does not change the route', async () => {
    const ws = await open('/live/wsEcho?room=1');
    try {
      ws.send('with a query');
      expect((await nextMessage(ws)).data.toString()).toBe('with a query');
    } finally {
      await closeAll([ws]);
    }
  });

  it('an unknown path is refused with 404 and a sentence naming the endpoints', async () => {
    for (const path of ['/live/nope', '/live/echo', '/live/', '/ws', '/live/wsEcho/extra']) {
      const err = (await open(path).then(
        (ws) => {
          ws.terminate();
          throw new Error(`${path} was accepted`);
        },
        (e) => e,
      )) as { status?: number; body?: string };
      expect(err.status, path).toBe(404);
      expect(err.body, path).toContain(`There is no WebSocket endpoint at ${path.split('?')[0]}.`);
      expect(err.body, path).toContain('/live/wsEcho');
      expect(err.body, path).toContain('/api/ws');
    }
  });

  it(`the shared server's per-IP cap (${SHARED_WS_LIMITS.maxPerIp}) applies through the route, to the client's address as the API sees it`, async () => {
    const cap = SHARED_WS_LIMITS.maxPerIp!;
    const crowd: WebSocket[] = [];
    try {
      for (let i = 0; i < cap; i++) crowd.push(await open('/live/wsEcho', { 'X-Forwarded-For': '203.0.113.5' }));
      const refused = (await open('/live/wsEcho', { 'X-Forwarded-For': '203.0.113.5' }).then(
        (ws) => {
          crowd.push(ws);
          return { status: 101 };
        },
        (e) => e,
      )) as { status?: number };
      expect(refused.status).toBe(429);
      // another address behind the same proxy is not held back by the first one's connections
      const other = await open('/live/wsEcho', { 'X-Forwarded-For': '203.0.113.6' });
      crowd.push(other);
      other.send('another address');
      expect((await nextMessage(other)).data.toString()).toBe('another address');
    } finally {
      await closeAll(crowd);
    }
    // the count is given back when they close
    const again = await open('/live/wsEcho', { 'X-Forwarded-For': '203.0.113.5' });
    await closeAll([again]);
  });

  it('the editor socket at /api/ws still works', async () => {
    const { ws, until } = await openEditorSocket(server.url);
    try {
      ws.send('not json');
      await until((m) => m.type === 'error' && m.code === 'malformed_message');
      ws.send(JSON.stringify({ type: 'run', id: 'r1', code: 'console.log("editor socket " + (20 + 22));' }));
      const exit = await until((m) => m.type === 'exit');
      expect(exit.result).toMatchObject({ exitCode: 0, stdout: 'editor socket 42\n' });
    } finally {
      ws.close();
    }
  });
});

describe('UpgradeRouter', () => {
  it('refuses a second handler for the same path', () => {
    const router = new UpgradeRouter().add('/a', () => {});
    expect(() => router.add('/a', () => {})).toThrow('Two upgrade handlers for /a');
  });
});
