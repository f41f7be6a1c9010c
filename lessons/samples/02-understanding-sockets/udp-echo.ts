// UDP with node:dgram: no connection, just datagrams. The run's UDP echo
// server sends every datagram straight back to whoever sent it.
import dgram from 'node:dgram';
import { once } from 'node:events';

const host = process.env.HOST ?? '127.0.0.1';
const echoPort = Number(process.env.UDP_ECHO_PORT);
const nobodyPort = Number(process.env.PORT); // a free port: nobody listens

const socket = dgram.createSocket('udp4');
socket.on('error', (err) => console.log(`socket error: ${err.message}`));

// 1. Each send() is one datagram, and each one arrives (if it arrives)
//    as exactly one 'message' event.
const received: string[] = [];
function onMessage(msg: Buffer, from: dgram.RemoteInfo) {
  const text = msg.toString('utf8');
  received.push(text);
  const n = received.length;
  const sender = `${from.address}:${from.port}`;
  console.log(`reply ${n}: "${text}" (${msg.length} bytes from ${sender})`);
}
socket.on('message', onMessage);

for (const text of ['ping 1', 'ping 2, a little longer', 'ping 3 ✓']) {
  socket.send(text, echoPort, host);
}
// UDP has no "end of stream", so we decide ourselves how long to wait.
await new Promise((resolve) => setTimeout(resolve, 200));
socket.off('message', onMessage);
console.log(`sent 3 datagrams, got ${received.length} back, each one whole`);

// 2. Nobody tells you when a datagram is lost. If you need an answer,
//    wait with a timeout, and try again.
async function ask(text: string, port: number): Promise<string | null> {
  const tries = 3;
  const timeoutMs = 150;
  for (let attempt = 1; attempt <= tries; attempt++) {
    socket.send(text, port, host);
    try {
      const signal = AbortSignal.timeout(timeoutMs);
      const [msg] = (await once(socket, 'message', { signal })) as [Buffer];
      return msg.toString('utf8');
    } catch {
      const when = `within ${timeoutMs} ms (try ${attempt} of ${tries})`;
      console.log(`  no reply to "${text}" ${when}`);
    }
  }
  return null;
}

console.log(`echo server answered: ${await ask('are you there?', echoPort)}`);
const answer = await ask('is anyone there?', nobodyPort);
if (answer === null) {
  console.log('empty port: gave up, the datagrams vanished without an error');
} else {
  console.log(`unexpected answer: ${answer}`);
}

socket.close();
