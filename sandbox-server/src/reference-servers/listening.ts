// Starting to listen, as every reference server does: resolves once the server (TCP or HTTP) or the
// socket (UDP) is listening, rejects with its error (e.g. EADDRINUSE) otherwise.
import { once, type EventEmitter } from 'node:events';

export async function whenListening(emitter: EventEmitter, start: () => void): Promise<void> {
  start();
  await Promise.race([
    once(emitter, 'listening'),
    once(emitter, 'error').then(([err]) => {
      throw err;
    }),
  ]);
}
