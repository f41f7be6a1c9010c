// The traffic view's words for HTTP long-polling: an HTTP head by its first line, a packet of a
// polling body as "polling:" and what it carries (as a WebSocket frame's packet is named), and the
// payload panel's line saying where in its body the packet was.
import { describe, expect, it } from 'vitest';
import { eventFields, eventLabel } from '../../site/src/client/traffic-labels.ts';
import type { TrafficWireEvent } from '../../site/src/client/traffic-model.ts';

const text = (s: string) => ({ bytes: new TextEncoder().encode(s).length, preview: { text: s, bytes: new TextEncoder().encode(s).length } });
const ev = (fields: Partial<TrafficWireEvent> & Pick<TrafficWireEvent, 'kind'>): TrafficWireEvent => ({ seq: 1, t: 5, endpoint: 'socketIo', connection: 2, direction: 'from-learner', ...fields });

describe('labels of polling traffic', () => {
  it('names an HTTP head by its request or status line', () => {
    expect(eventLabel(ev({ kind: 'http', ...text('POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: h\r\n\r\n') }), 80)).toBe('HTTP POST /socket.io/?EIO=4&transport=polling&sid=x');
    expect(eventLabel(ev({ kind: 'http', direction: 'to-learner', ...text('HTTP/1.1 400 Bad Request\r\n\r\n') }))).toBe('HTTP 400 Bad Request');
  });

  it('names a packet "polling:" and its Socket.IO or Engine.IO meaning, or its bytes when it has none', () => {
    const emit = ev({
      kind: 'packet',
      ...text('451-0["up",{"_placeholder":true,"num":0}]'),
      polling: { index: 2, binary: false },
      socketIo: { engineIo: 'message', socketIo: { type: 'BINARY_EVENT', namespace: '/', event: 'up', args: '[{"_placeholder":true,"num":0}]', ackId: 0, attachments: 1 } },
    });
    expect(eventLabel(emit, 80)).toBe('polling: emit "up" #0 [{"_placeholder":true,"num":0}] +1 binary');
    expect(eventFields(emit)).toEqual(
      expect.arrayContaining([
        ['kind', 'packet'],
        ['HTTP long-polling', 'packet 2 of the body'],
        ['binary attachments', '1, each in its own "b" packet after this one'],
      ]),
    );
    const attachment = ev({ kind: 'packet', ...text('bAQID'), polling: { index: 1, binary: true }, socketIo: { engineIo: 'message', attachment: { index: 1, of: 1 } } });
    expect(eventLabel(attachment)).toBe('polling: binary attachment 1 of 1');
    expect(eventFields(attachment)).toContainEqual(['HTTP long-polling', 'packet 1 of the body, binary data sent as "b" and base64']);
    expect(eventLabel(ev({ kind: 'packet', ...text('6'), polling: { index: 1, binary: false }, socketIo: { engineIo: 'noop' } }))).toBe('polling: Engine.IO noop');
    const junk = ev({ kind: 'packet', ...text('x'), polling: { index: 1, binary: false }, socketIo: { error: 'not an Engine.IO packet' } });
    expect(eventLabel(junk)).toBe('polling: packet 1 B "x"');
  });
});
