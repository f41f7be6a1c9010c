/**
 * Words for the traffic view: the short label drawn on an arrow, the full sentence a screen reader
 * hears, the lines of the payload panel (decoded fields, text, hex dump). Pure functions: the view
 * puts their strings into the page with textContent only.
 */
import type { TrafficEndpoint, TrafficWireEvent } from './traffic-model.ts';

export const PROGRAM = 'your program';

/** How a lane is titled: "echo" with "TCP echo" under it, "alice" with "test client, TCP" (from "grader:alice"). */
export function endpointTitle(e: TrafficEndpoint): { title: string; subtitle: string } {
  if (e.role === 'grader') return { title: e.name.replace(/^grader:/, ''), subtitle: `test client${e.transport ? `, ${transportName(e.transport)}` : ''}` };
  return { title: e.name, subtitle: e.title ?? (e.transport ? transportName(e.transport) : 'server') };
}

function transportName(t: NonNullable<TrafficEndpoint['transport']>): string {
  return { tcp: 'TCP', udp: 'UDP', ws: 'WebSocket', 'socket.io': 'Socket.IO' }[t];
}

/** Text with line ends and control characters made visible, cut to `max` characters with "…". */
export function snippet(text: string, max: number): string {
  const visible = text.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/[\u0000-\u001f\u007f]/g, '·');
  return visible.length > max ? `${visible.slice(0, Math.max(1, max - 1))}…` : visible;
}

const size = (e: TrafficWireEvent) => `${e.bytes ?? 0} B`;

function quoted(e: TrafficWireEvent, max: number): string {
  if (e.preview?.text === undefined) return e.preview?.hex ? ` ${e.preview.hex.slice(0, 16)}${e.preview.hex.length > 16 ? '…' : ''} (hex)` : '';
  return ` "${snippet(e.preview.text, max)}"`;
}

/** The arrow's label, at most about `max` characters. */
export function eventLabel(e: TrafficWireEvent, max = 40): string {
  switch (e.kind) {
    case 'open':
      return 'connect';
    case 'end':
      return 'end (FIN: no more data)';
    case 'close':
      return 'closed';
    case 'data':
      return cut(`chunk ${size(e)}${quoted(e, max)}`, max);
    case 'datagram':
      return cut(`datagram ${size(e)}${quoted(e, max)}`, max);
    case 'handshake':
    case 'http':
      return cut(headLine(e), max);
    case 'frame':
      return cut(socketIoLabel(e) ?? frameLabel(e, max), max);
    case 'packet':
      return cut(`polling: ${socketIoLabel(e) ?? `packet ${size(e)}${quoted(e, max)}`}`, max);
  }
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** "HTTP GET /path" or "HTTP 101 Switching Protocols": an HTTP head's first line, without what is always there. */
function headLine(e: TrafficWireEvent): string {
  const first = (e.preview?.text ?? '').split('\r\n')[0];
  const status = /^HTTP\/1\.[01] (.*)$/.exec(first);
  if (status) return `HTTP ${status[1]}`;
  return `HTTP ${first.replace(/ HTTP\/1\.[01]$/, '')}`;
}

function frameLabel(e: TrafficWireEvent, max: number): string {
  const ws = e.websocket;
  if (!ws) return `frame ${size(e)}`;
  const fragment = ws.fin ? '' : ' (fragment)';
  if (ws.kind === 'close') return `close frame${ws.closeCode !== undefined ? ` ${ws.closeCode}` : ''}${ws.closeReason ? ` "${snippet(ws.closeReason, 20)}"` : ''}`;
  if (ws.kind === 'text' || ws.kind === 'continuation') return `${ws.kind}${fragment}${quoted(e, max)}`;
  if (ws.kind === 'binary') return `binary${fragment} ${size(e)}`;
  return `${ws.kind} frame${e.bytes ? ` ${size(e)}` : ''}`;
}

/** What a Socket.IO connection's message or polling packet says: emit, ack, connect…, or undefined to show it as bytes. */
function socketIoLabel(e: TrafficWireEvent): string | undefined {
  const s = e.socketIo;
  if (!s || (s.error && !s.socketIo)) return undefined;
  if (s.attachment) return `binary attachment ${s.attachment.index} of ${s.attachment.of}`;
  const p = s.socketIo;
  if (!p) return `Engine.IO ${s.engineIo}${s.engineIoData && s.engineIo !== 'open' ? ` "${snippet(s.engineIoData, 12)}"` : ''}`;
  const ns = p.namespace === '/' ? '' : ` ${p.namespace}`;
  const ack = p.ackId !== undefined ? ` #${p.ackId}` : '';
  const binary = p.attachments ? ` +${p.attachments} binary` : '';
  switch (p.type) {
    case 'EVENT':
    case 'BINARY_EVENT':
      return `emit${ns} "${p.event ?? '?'}"${ack} ${p.args ?? ''}${binary}`;
    case 'ACK':
    case 'BINARY_ACK':
      return `ack${ns}${ack} ${p.args ?? ''}${binary}`;
    default:
      return `${p.type}${ns}${p.args ? ` ${p.args}` : ''}`;
  }
}

/** Who sent it to whom, e.g. "your program to echo" (a close or FIN: "your program and echo"). */
export function eventParties(e: TrafficWireEvent, from: string, to: string): string {
  return e.kind === 'close' || e.kind === 'end' ? `${from} and ${to}` : `${from} to ${to}`;
}

/** The decoded fields of an event, as label/value pairs for the payload panel. */
export function eventFields(e: TrafficWireEvent): [string, string][] {
  const fields: [string, string][] = [
    ['time', `${e.t} ms after the run started`],
    ['connection', `${e.endpoint} #${e.connection}${e.peer !== undefined ? `, to ${e.peer} (not to your program)` : ''}`],
    ['kind', e.kind],
  ];
  if (e.bytes !== undefined) fields.push(['bytes', `${e.bytes}${e.preview && e.preview.bytes < e.bytes ? ` (the first ${e.preview.bytes} are shown)` : ''}`]);
  const ws = e.websocket;
  if (ws) {
    fields.push(['WebSocket frame', `opcode ${ws.opcode} (${ws.kind}), FIN ${ws.fin ? 'set' : 'not set'}, ${ws.masked ? 'masked' : 'not masked'}${ws.rsv ? `, RSV ${ws.rsv}` : ''}`]);
    if (ws.closeCode !== undefined) fields.push(['close code', `${ws.closeCode}${ws.closeReason ? `, reason "${ws.closeReason}"` : ''}`]);
  }
  const polling = e.polling;
  if (polling) fields.push(['HTTP long-polling', `packet ${polling.index} of the body${polling.binary ? ', binary data sent as "b" and base64' : ''}`]);
  const s = e.socketIo;
  if (s?.engineIo) fields.push(['Engine.IO packet', s.engineIo + (s.engineIoData ? ` ${s.engineIoData}` : '')]);
  if (s?.socketIo) {
    const p = s.socketIo;
    fields.push(['Socket.IO packet', `${p.type}, namespace ${p.namespace}`]);
    if (p.event !== undefined) fields.push(['event', p.event]);
    if (p.args !== undefined) fields.push([p.type === 'CONNECT' ? 'data (auth)' : 'arguments', p.args]);
    if (p.ackId !== undefined) fields.push(['ack id', String(p.ackId)]);
    if (p.attachments) fields.push(['binary attachments', `${p.attachments}, each in its own ${polling ? '"b" packet' : 'binary frame'} after this one`]);
  }
  if (s?.attachment) fields.push(['binary attachment', `${s.attachment.index} of ${s.attachment.of} of the packet before`]);
  if (s?.error) fields.push(['Socket.IO', s.error]);
  return fields;
}

/** The payload's bytes as far as the preview holds them. */
export function previewBytes(e: TrafficWireEvent): Uint8Array {
  if (e.preview?.text !== undefined) return new TextEncoder().encode(e.preview.text);
  const hex = e.preview?.hex ?? '';
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** A hex dump, 16 bytes a line: offset, bytes in hex, the printable ASCII ones as characters. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = [...bytes.subarray(at, at + 16)];
    const hex = row.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = row.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(4, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}
