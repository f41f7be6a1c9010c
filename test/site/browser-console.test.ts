// The BrowserPlayground's console, both halves: how the frame turns logged values into text, and
// what the parent accepts of a frame's message (site/src/client/browser-console.ts).
import { describe, expect, it } from 'vitest';
import { FRAME_CHANNEL, MAX_LINE_CHARS, formatConsoleArgs, formatValue, readFrameMessage } from '../../site/src/client/browser-console.ts';

describe('formatValue', () => {
  it('prints strings as they are at the top level and quoted inside objects', () => {
    expect(formatConsoleArgs(['echo:', 'a "b"'])).toBe('echo: a "b"');
    expect(formatValue({ text: 'a "b"' })).toBe('{ text: "a \\"b\\"" }');
    expect(formatValue(['x', 1, true, null, undefined])).toBe('["x", 1, true, null, undefined]');
  });

  it('prints errors by name and message, and marks cycles', () => {
    expect(formatValue(new TypeError('bad thing'))).toBe('TypeError: bad thing');
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    expect(formatValue(loop)).toBe('{ name: "loop", self: [Circular] }');
  });

  it('prints what the WebSocket API hands out: events with their fields, Blobs and buffers by size', () => {
    // an Event's fields are getters on its prototype, as in a browser
    class MessageEvent {
      get type() { return 'message'; }
      get data() { return 'hi'; }
      get bubbles() { return false; }
      get timeStamp() { return 12.5; }
    }
    class CloseEvent {
      get type() { return 'close'; }
      get code() { return 1006; }
      get reason() { return ''; }
      get wasClean() { return false; }
      get bubbles() { return false; }
      get timeStamp() { return 1; }
    }
    expect(formatValue(new MessageEvent())).toBe('MessageEvent { type: "message", data: "hi" }');
    expect(formatValue(new CloseEvent())).toBe('CloseEvent { type: "close", code: 1006, reason: "", wasClean: false }');
    expect(formatValue(new Blob(['abcd']))).toBe('Blob { size: 4, type: "" }');
    expect(formatValue(new Uint8Array([1, 2, 3]))).toBe('Uint8Array(3) [1, 2, 3]');
    expect(formatValue(new ArrayBuffer(8))).toBe('ArrayBuffer { byteLength: 8 }');
  });

  it('prints DOM-like nodes by tag, Maps and Sets by entries, and stops at depth 3', () => {
    expect(formatValue({ nodeName: 'LI', nodeType: 1, id: 'first' })).toBe('<li#first>');
    expect(formatValue(new Map([['a', 1]]))).toBe('Map(1) { "a" => 1 }');
    expect(formatValue(new Set([1, 2]))).toBe('Set(2) { 1, 2 }');
    expect(formatValue({ a: { b: { c: { d: 1 } } } })).toBe('{ a: { b: { c: [Object] } } }');
    expect(formatValue(10n)).toBe('10n');
    expect(formatValue(function named() {})).toBe('[Function named]');
  });

  it('survives being serialised into the frame (it is sent there as source)', () => {
    const copy = new Function(`return (${formatValue.toString()});`)() as typeof formatValue;
    expect(copy({ list: [1, 'two'], nested: { deep: new Error('x') } })).toBe('{ list: [1, "two"], nested: { deep: Error: x } }');
  });
});

describe('readFrameMessage', () => {
  const message = (fields: Record<string, unknown>) => ({ channel: FRAME_CHANNEL, runId: 'r1', kind: 'output', stream: 'stdout', text: 'hi', ...fields });

  it('accepts this run\'s output as text', () => {
    expect(readFrameMessage(message({}), 'r1')).toEqual({ kind: 'output', stream: 'stdout', text: 'hi' });
    expect(readFrameMessage(message({ kind: 'ready', text: '' }), 'r1')).toEqual({ kind: 'ready', stream: 'stdout', text: '' });
  });

  it('ignores other channels, other runs, unknown kinds or streams, and text that is not a string', () => {
    expect(readFrameMessage(message({ channel: 'other' }), 'r1')).toBeNull();
    expect(readFrameMessage(message({}), 'r2')).toBeNull();
    expect(readFrameMessage(message({ kind: 'html' }), 'r1')).toBeNull();
    expect(readFrameMessage(message({ stream: 'innerHTML' }), 'r1')).toBeNull();
    expect(readFrameMessage(message({ text: { toString: () => 'x' } }), 'r1')).toBeNull();
    expect(readFrameMessage('hi', 'r1')).toBeNull();
    expect(readFrameMessage(null, 'r1')).toBeNull();
  });

  it('cuts a very long line and says how much was left out', () => {
    const got = readFrameMessage(message({ text: 'x'.repeat(MAX_LINE_CHARS + 5) }), 'r1');
    expect(got!.text).toBe(`${'x'.repeat(MAX_LINE_CHARS)}… (5 more characters not shown)`);
  });
});
