// A session's traffic for the one who asked for the run: streamed in batches while it goes (the
// editor socket), or whole in the result at the end (the JSON API). Its reference servers are named
// as the registry titles them; every other endpoint of the log is a client of the grading tests.
import { REFERENCE_SERVER_NAMES, REFERENCE_SERVERS } from '../reference-servers/index.ts';
import type { Traffic } from '../shapes/traffic.ts';
import { TrafficStream } from '../traffic/traffic-stream.ts';
import { serializeTraffic, type ServerEndpoint } from '../traffic/traffic-wire.ts';
import type { Session } from './session.ts';

export type TrafficListener = (batch: Traffic) => void;

export interface SessionTraffic {
  /**
   * Call once the session is closed (its last closes are in the log), on every path (it stops the
   * stream): `{ traffic }` unless it was streamed. Later calls give the same.
   */
  finish(): { traffic?: Traffic };
}

export function followTraffic(session: Session, onTraffic?: TrafficListener): SessionTraffic {
  const servers = serverEndpoints(session);
  const stream = onTraffic && new TrafficStream(session.traffic, servers, onTraffic);
  let finished: { traffic?: Traffic } | undefined;
  return {
    finish() {
      if (!finished) {
        stream?.finish();
        finished = stream ? {} : { traffic: serializeTraffic(session.traffic, servers) };
      }
      return finished;
    },
  };
}

/** Each of the session's reference servers under the name its traffic is recorded with. */
function serverEndpoints(session: Session): ServerEndpoint[] {
  return REFERENCE_SERVER_NAMES.map((name) => {
    const entry = REFERENCE_SERVERS[name];
    const recordedAs = (session.servers[name] as { name?: unknown }).name;
    return { name: typeof recordedAs === 'string' ? recordedAs : name, transport: entry.transport, title: entry.title };
  });
}
