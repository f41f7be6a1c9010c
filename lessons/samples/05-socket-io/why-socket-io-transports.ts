// Engine.IO's transports, seen from the client: by default a connection starts as HTTP
// long-polling and upgrades to a WebSocket once a probe over the WebSocket has worked; with
// transports: ['websocket'] it opens the WebSocket straight away. Against the run's socketIo server.
import { io, type ManagerOptions } from 'socket.io-client';

const url = `http://${process.env.HOST}:${process.env.SOCKET_IO_PORT}`;

function connect(label: string, options: Partial<ManagerOptions>): Promise<void> {
  return new Promise((resolve, reject) => {
    // The course's server wants a name in the handshake's auth payload.
    const socket = io(url, { auth: { name: label }, ...options });
    // The upgrade can finish before or after Socket.IO's own connect: close only once both are done.
    let connected = false;
    let upgraded = options.transports?.[0] === 'websocket'; // nothing to upgrade to
    const doneIfBoth = () => {
      if (!connected || !upgraded) return;
      socket.close();
      resolve();
    };
    // socket.io is the Manager (the connection); its engine is the Engine.IO socket, which has the transport.
    const engine = socket.io.engine;
    engine.on('handshake', (data) => {
      console.log(`${label}: Engine.IO open over ${engine.transport.name}, sid ${data.sid}, upgrades offered: ${JSON.stringify(data.upgrades)}`);
    });
    engine.on('upgrade', (transport) => {
      console.log(`${label}: upgraded to ${transport.name}`);
      upgraded = true;
      doneIfBoth();
    });
    socket.on('connect', () => {
      console.log(`${label}: connected over ${socket.io.engine.transport.name}`);
      connected = true;
      doneIfBoth();
    });
    socket.on('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

await connect('default', {});
await connect('websocket-only', { transports: ['websocket'] });
