// Runs INSIDE the learner's process for module exercises: imports the learner's module and answers
// the grader's calls over one TCP connection (newline-delimited JSON). It decides nothing: the
// grader compares the answers with what it expects.
import net from 'node:net';

const encode = (value, objects) => {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { $buffer: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map((v) => encode(v, objects));
  if (value === undefined) return { $undefined: true };
  if (value && typeof value === 'object') {
    if (Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v, objects)]));
    }
    objects.set(objects.size + 1, value);
    return { $handle: objects.size };
  }
  return value;
};
const decode = (value) => {
  if (Array.isArray(value)) return value.map(decode);
  if (value && typeof value === 'object') {
    if ('$buffer' in value) return Buffer.from(value.$buffer, 'base64');
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
  }
  return value;
};

const learnerModule = await import('./main.mjs');
const objects = new Map();
const socket = net.connect(Number(process.env.GRADER_PORT), '127.0.0.1');
socket.setEncoding('utf8');
let buffered = '';
socket.on('data', async (text) => {
  buffered += text;
  let nl;
  while ((nl = buffered.indexOf('\n')) !== -1) {
    const request = JSON.parse(buffered.slice(0, nl));
    buffered = buffered.slice(nl + 1);
    let reply;
    try {
      const args = decode(request.args ?? []);
      let result;
      if (request.op === 'new') result = new learnerModule[request.name](...args);
      else if (request.op === 'call') result = await learnerModule[request.name](...args);
      else if (request.op === 'method') result = await objects.get(request.handle)[request.name](...args);
      else if (request.op === 'exports') result = Object.keys(learnerModule);
      reply = { id: request.id, result: encode(result, objects) };
    } catch (err) {
      reply = { id: request.id, error: String(err?.stack ?? err) };
    }
    socket.write(JSON.stringify(reply) + '\n');
  }
});
socket.on('close', () => process.exit(0));
