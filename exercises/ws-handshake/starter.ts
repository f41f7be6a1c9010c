// A WebSocket server's opening handshake, by hand: node:net only (no ws, no node:http).
import net from 'node:net';
import { createHash } from 'node:crypto';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const server = net.createServer((socket) => {
  socket.on('error', () => {}); // a client that resets its connection must not crash the server
  socket.on('data', (chunk: Buffer) => {
    // TODO 1: keep the bytes until the request head is complete (it ends with "\r\n\r\n").
    // TODO 2: check it: GET (else 405), Upgrade: websocket and Connection: Upgrade (else 400),
    //         Sec-WebSocket-Version: 13 (else 426 with Sec-WebSocket-Version: 13), a valid key (else 400).
    // TODO 3: answer 101 with Sec-WebSocket-Accept = base64(SHA-1(key + WEBSOCKET_GUID)),
    //         e.g. createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64').
    // TODO 4: send the text frame "welcome"; then read frames and answer a close frame with a close frame.
  });
});

server.listen(Number(process.env.PORT), () => console.log(`listening on port ${process.env.PORT}`));
