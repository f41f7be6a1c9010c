// A Socket.IO server with an open main namespace and a /secure namespace that checks tokens.
// See the instructions for the tokens, the refusals and the events.
import { Server } from 'socket.io';

const io = new Server(Number(process.env.PORT));

io.on('connection', (socket) => {
  // TODO: answer "ping" with the acknowledgement "pong".
});

const secure = io.of('/secure');

// TODO: check socket.handshake.auth.token in secure.use((socket, next) => …): refuse with
//       next(err), err.message and err.data as in the instructions, or put the user on socket.data.

secure.on('connection', (socket) => {
  // TODO: answer "whoami" with this connection's { user, role }.
});
