// Lets a client exercise's test watch, and shape, the learner's connection to a reference server:
// hold the learner's bytes back like a slow network, or deliver the server's lines in awkward
// pieces, so "waits for the reply" and "frames by lines" can be checked deterministically.
import { currentGrade } from './context.ts';
import type { AcceptHook } from '../reference-servers/tcp-server-base.ts';
import type { TcpServerName } from '../reference-servers/registry.ts';

/**
 * Calls `hook` with the server side of every new connection to this grade's reference server
 * `name`, before the server's own handlers run; if it returns an OutputShaper, the server's output
 * to that connection goes through it. Stops at the end of the grade, or when the returned
 * function is called.
 */
export function onReferenceConnection(name: TcpServerName, hook: AcceptHook): () => void {
  const ctx = currentGrade();
  const stop = ctx.session.servers[name].onAccept(hook);
  ctx.cleanups.push(stop);
  return stop;
}
