// Lets a client exercise's test watch, and shape, the learner's connection to a reference server:
// hold the learner's bytes back like a slow network, or deliver the server's lines in awkward
// pieces, so "waits for the reply" and "frames by lines" can be checked deterministically.
import type net from 'node:net';
import { currentGrade } from './context.ts';

/**
 * Calls `listener` with the server side of every new connection to this grade's reference server
 * `name`, before the server's own handlers run. Stops at the end of the grade, or when the
 * returned function is called.
 */
export function onReferenceConnection(name: 'echo' | 'chat', listener: (socket: net.Socket) => void): () => void {
  const ctx = currentGrade();
  // `server` is protected in ReferenceTcpServer; the kit is trusted code of the same package.
  const server: net.Server = ctx.session.servers[name]['server'];
  server.prependListener('connection', listener);
  const stop = () => void server.off('connection', listener);
  ctx.cleanups.push(stop);
  return stop;
}
