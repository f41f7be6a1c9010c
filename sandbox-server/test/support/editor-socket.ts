// A client of the editors' WebSocket endpoint for black-box tests: collects every message and
// waits for the one a test expects.
import WebSocket from 'ws';

export type Msg = { type: string; id?: string; [k: string]: any };

export interface EditorSocket {
  ws: WebSocket;
  messages: Msg[];
  /** The first message (already received or still to come) that matches, within `ms`. */
  until(pred: (m: Msg) => boolean, ms?: number): Promise<Msg>;
  closed: Promise<{ code: number; reason: string }>;
}

export async function openEditorSocket(serverUrl: string, options: WebSocket.ClientOptions = {}): Promise<EditorSocket> {
  const ws = new WebSocket(serverUrl.replace('http', 'ws') + '/api/ws', options);
  const messages: Msg[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    messages.push(JSON.parse(data.toString()));
    waiters.forEach((w) => w());
  });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`))));
  return {
    ws,
    messages,
    closed,
    until: (pred, ms = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(pred);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => reject(new Error(`no matching message; got ${JSON.stringify(messages).slice(0, 800)}`)), ms);
        waiters.add(check);
        check();
      }),
  };
}
