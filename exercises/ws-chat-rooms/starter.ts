import { WebSocketServer, WebSocket } from 'ws';

const port = Number(process.env.PORT);

// TODO: limit messages to 4096 bytes (a WebSocketServer option closes larger ones with 1009).
const wss = new WebSocketServer({ port });

/** Room name → its members (connection → name), in the order they joined. */
const rooms = new Map<string, Map<WebSocket, string>>();

wss.on('connection', (ws: WebSocket) => {
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    // TODO: parse the JSON object (invalid JSON, or JSON that is not an object: an "invalid-json" error).
    // TODO: handle "join", "message" and "leave" as the instructions say; anything else: "unknown-type".
  });

  // TODO: on 'close', tell the others in the room that this member left (once).
  // TODO: listen for 'error', so a client that breaks the protocol cannot crash the server.
});

wss.on('listening', () => console.log(`chat rooms listening on port ${port}`));
