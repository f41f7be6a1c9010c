/**
 * One run's traffic in the page, put together from the batches the editor socket streams (each
 * gives the events and test marks new since the last one; endpoints and truncation as they are now).
 * Shapes: sandbox-server/src/shapes/traffic.ts (types only, so zod stays out of the page).
 */
import type { Traffic, TrafficEndpoint, TrafficMark, TrafficWireEvent } from '../../../sandbox-server/src/shapes/traffic.ts';

export type { Traffic, TrafficEndpoint, TrafficMark, TrafficWireEvent };

export function emptyTraffic(): Traffic {
  return { endpoints: [], events: [], marks: [], truncated: false, omittedEvents: 0 };
}

/** `into` with `batch` added: events appended in order (a repeated seq is ignored), marks replaced by test name. */
export function mergeTraffic(into: Traffic, batch: Traffic): Traffic {
  const lastSeq = into.events.length ? into.events[into.events.length - 1].seq : -1;
  const marks = [...into.marks];
  for (const mark of batch.marks) {
    const at = marks.findIndex((m) => m.test === mark.test && m.start === mark.start);
    if (at === -1) marks.push(mark);
    else marks[at] = mark;
  }
  const endpoints = new Map(into.endpoints.map((e) => [e.name, e]));
  for (const e of batch.endpoints) endpoints.set(e.name, e);
  return {
    endpoints: [...endpoints.values()],
    events: [...into.events, ...batch.events.filter((e) => e.seq > lastSeq)],
    marks,
    truncated: into.truncated || batch.truncated,
    omittedEvents: Math.max(into.omittedEvents, batch.omittedEvents),
    ...((batch.note ?? into.note) !== undefined && { note: batch.note ?? into.note }),
  };
}

/** A connection's key: its endpoint and number. */
export function connectionKey(e: Pick<TrafficWireEvent, 'endpoint' | 'connection'>): string {
  return `${e.endpoint}#${e.connection}`;
}
