/**
 * The console of a BrowserPlayground's frame, on both sides of postMessage: `formatValue` turns what
 * learner code logs into text inside the frame (it is serialised into the frame's document, so it
 * must stay self-contained: no imports, no outer names), and `readFrameMessage` is all the parent
 * believes of a message from the frame (plain text with a known kind, nothing else).
 * No DOM types here: values are recognised by their tags and shapes, which also works across frames.
 */

/** The frame's messages are marked with this, so other postMessage traffic is never mistaken for them. */
export const FRAME_CHANNEL = 'socket-mastery:browser-playground';

/** Longest text the parent shows for one console call. */
export const MAX_LINE_CHARS = 10_000;

export type FrameStream = 'stdout' | 'stderr' | 'error';

export interface FrameOutput {
  kind: 'ready' | 'output';
  stream: FrameStream;
  text: string;
}

/**
 * A value as text, roughly as the browser's console shows it: strings as they are at the top level
 * and quoted inside objects; Errors as "Name: message"; events by type with their useful fields
 * (a MessageEvent's data, a CloseEvent's code and reason); Blobs and buffers by size; DOM nodes by
 * tag; objects and arrays to a few levels, with cycles marked.
 */
export function formatValue(value: unknown, depth = 0, seen: unknown[] = []): string {
  const quote = (s: string) => JSON.stringify(s);
  if (typeof value === 'string') return depth === 0 ? value : quote(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return `[Function ${value.name || '(anonymous)'}]`;
  if (value === null || typeof value !== 'object') return String(value);
  if (seen.includes(value)) return '[Circular]';
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  const obj = value as Record<string, unknown>;
  const ctor = typeof obj.constructor === 'function' ? (obj.constructor as { name?: string }).name || tag : tag;
  if (tag === 'Error' || value instanceof Error || (typeof obj.message === 'string' && typeof obj.name === 'string' && typeof obj.stack === 'string')) {
    return `${String(obj.name)}: ${String(obj.message)}`;
  }
  if (typeof obj.nodeName === 'string' && typeof obj.nodeType === 'number') {
    const id = typeof obj.id === 'string' && obj.id ? `#${obj.id}` : '';
    return obj.nodeType === 1 ? `<${String(obj.nodeName).toLowerCase()}${id}>` : `[${ctor}]`;
  }
  if (tag === 'Blob' || tag === 'File') return `${tag} { size: ${String(obj.size)}, type: ${quote(String(obj.type ?? ''))} }`;
  if (tag === 'ArrayBuffer') return `ArrayBuffer { byteLength: ${String(obj.byteLength)} }`;
  if (ArrayBuffer.isView(value)) {
    const items = Array.from(value as unknown as ArrayLike<number>).slice(0, 32);
    const length = (value as unknown as { length?: number }).length ?? (value as ArrayBufferView).byteLength;
    return `${ctor}(${length}) [${items.join(', ')}${length > items.length ? ', …' : ''}]`;
  }
  if (depth >= 3) return Array.isArray(value) ? '[Array]' : `[${ctor}]`;
  const inner = [...seen, value];
  if (typeof obj.type === 'string' && typeof obj.timeStamp === 'number' && 'bubbles' in obj) {
    // an Event: its fields are getters on the prototype, so list the ones worth seeing by name
    const fields = ['type', 'data', 'code', 'reason', 'wasClean', 'message'].filter((k) => k in obj && obj[k] !== undefined);
    return `${ctor} { ${fields.map((k) => `${k}: ${formatValue(obj[k], depth + 1, inner)}`).join(', ')} }`;
  }
  if (Array.isArray(value)) {
    const items = value.slice(0, 100).map((v) => formatValue(v, depth + 1, inner));
    if (value.length > 100) items.push(`… ${value.length - 100} more`);
    return `[${items.join(', ')}]`;
  }
  if (tag === 'Map' || tag === 'Set') {
    const entries = [...(value as Map<unknown, unknown> | Set<unknown>).entries()].slice(0, 100);
    const shown = entries.map(([k, v]) => (tag === 'Map' ? `${formatValue(k, depth + 1, inner)} => ${formatValue(v, depth + 1, inner)}` : formatValue(v, depth + 1, inner)));
    return `${tag}(${(value as Map<unknown, unknown>).size}) { ${shown.join(', ')} }`;
  }
  if (tag === 'Date') return (value as Date).toISOString();
  if (tag === 'RegExp') return String(value);
  if (tag === 'Promise') return 'Promise';
  const keys = Object.keys(obj);
  const props = keys.slice(0, 50).map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k)}: ${formatValue(obj[k], depth + 1, inner)}`);
  if (keys.length > 50) props.push(`… ${keys.length - 50} more`);
  const prefix = ctor === 'Object' || !ctor ? '' : `${ctor} `;
  return props.length ? `${prefix}{ ${props.join(', ')} }` : `${prefix}{}`;
}

/** The text of one console call: its arguments formatted and joined with spaces, as browsers do. */
export function formatConsoleArgs(args: unknown[]): string {
  return args.map((a) => formatValue(a)).join(' ');
}

/** What the parent accepts from its frame: a known kind and stream with text, capped; anything else is null. */
export function readFrameMessage(data: unknown, runId: string): FrameOutput | null {
  if (!data || typeof data !== 'object') return null;
  const m = data as Record<string, unknown>;
  if (m.channel !== FRAME_CHANNEL || m.runId !== runId) return null;
  if (m.kind !== 'ready' && m.kind !== 'output') return null;
  if (m.stream !== 'stdout' && m.stream !== 'stderr' && m.stream !== 'error') return null;
  if (typeof m.text !== 'string') return null;
  const text = m.text.length > MAX_LINE_CHARS ? `${m.text.slice(0, MAX_LINE_CHARS)}… (${m.text.length - MAX_LINE_CHARS} more characters not shown)` : m.text;
  return { kind: m.kind, stream: m.stream, text };
}
