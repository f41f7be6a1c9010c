// UDP with node:dgram: no connection, just datagrams. The run's UDP echo server sends
// every datagram straight back to whoever sent it.
import dgram from 'node:dgram';
import { once } from 'node:events';

const host = process.env.HOST ?? '127.0.0.1';
const echoPort = Number(process.env.UDP_ECHO_PORT);
const nobodyPort = Number(process.env.PORT); // free port: nothing is listening there

const socket = dgram.createSocket('udp4');
socket.on('error', (err) => console.log(`socket error: ${err.message}`));

// 1. Each send() is one datagram, and each one arrives (if it arrives) as one 'message'.
const received: string[] = [];
function onMessage(msg: Buffer, from: dgram.RemoteInfo) {
  received.push(msg.toString('utf8'));
  console.log(`reply ${received.length}: "${msg.toString('utf8')}" (${msg.length} bytes from ${from.address}:${from.port})`);
}
socket.on('message', onMessage);

for (const text of ['ping 1', 'ping 2, a little longer', 'ping 3 ✓']) {
  socket.send(text, echoPort, host);
}
// UDP has no "end of stream", so we decide ourselves how long to wait.
await new Promise((resolve) => setTimeout(resolve, 200));
socket.off('message', onMessage);
console.log(`sent 3 datagrams, got ${received.length} back, each one whole`);

// 2. Nobody tells you when a datagram is lost. If you need an answer, use a timeout and retry.
async function ask(text: string, port: number, tries = 3, timeoutMs = 150): Promise<string | null> {
  for (let attempt = 1; attempt <= tries; attempt++) {
    socket.send(text, port, host);
    try {
      const [msg] = (await once(socket, 'message', { signal: AbortSignal.timeout(timeoutMs) })) as [Buffer];
      return msg.toString('utf8');
    } catch {
      console.log(`  no reply to "${text}" within ${timeoutMs} ms (try ${attempt} of ${tries})`);
    }
  }
  return null;
}

console.log(`echo server answered: ${await ask('are you there?', echoPort)}`);
const answer = await ask('is anyone there?', nobodyPort);
console.log(answer === null ? 'empty port: gave up, the datagrams vanished without an error' : `unexpected: ${answer}`);

socket.close();
