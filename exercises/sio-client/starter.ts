// A Socket.IO client for the course's server: see the instructions for what to send and print.
import { io } from 'socket.io-client';

const socket = io(`http://${process.env.HOST}:${process.env.SOCKET_IO_PORT}`, {
  // TODO: the auth payload { name, token }, the token from process.env.SOCKET_IO_TOKEN.
});

socket.on('connect', () => {
  console.log('connected');
  // TODO: print "connected (recovered: …)"; the first time, ask "silent" (1 s timeout), then "slow" 300
  //       (again after a lost connection, until it is answered).
});

// TODO: print disconnects, reconnect after "io server disconnect", report a refusal (exit code 1),
//       print each message as "message from <from>: <text>", and leave on "bye".
