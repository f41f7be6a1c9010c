/**
 * The document of a BrowserPlayground's frame (its srcdoc). The frame is sandboxed with
 * allow-scripts only, so it has an opaque origin: no access to this site's origin, cookies, storage
 * or DOM. Its Content-Security-Policy lets it connect only to this site's host over ws:/wss: (the
 * shared reference servers under /live/), and load nothing at all. A small bootstrap forwards the
 * console, uncaught errors, unhandled rejections and CSP violations to the parent with postMessage,
 * defines liveUrl(name) (the URL of a shared server under /live/), then waits for the learner's code
 * and runs it as a module script.
 */
import { FRAME_CHANNEL, formatValue } from './browser-console';

export interface FrameConfig {
  /** The site's host (host:port), the only place the frame may connect to. */
  host: string;
  /** The parent's origin: the frame posts only there. */
  parentOrigin: string;
  /** Marks this run's messages, so a late message from an earlier frame is never shown. */
  runId: string;
  channel: string;
}

/**
 * Runs in the frame (serialised with its source; self-contained). `format` is formatValue, passed in
 * the same way.
 */
function frameMain(format: (value: unknown) => string, config: FrameConfig): void {
  const post = (kind: string, stream: string, text: string) => {
    parent.postMessage({ channel: config.channel, runId: config.runId, kind, stream, text }, config.parentOrigin);
  };
  const text = (args: unknown[]) => args.map((a) => format(a)).join(' ');
  const streams: Record<string, string> = { log: 'stdout', info: 'stdout', debug: 'stdout', warn: 'stderr', error: 'stderr' };
  const own = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const level of Object.keys(streams)) {
    const original = own[level];
    own[level] = (...args: unknown[]) => {
      post('output', streams[level], text(args));
      original.apply(console, args);
    };
  }
  window.addEventListener('error', (e) => {
    const where = e.lineno ? ` (line ${e.lineno})` : '';
    post('output', 'error', `Uncaught ${e.error !== undefined && e.error !== null ? format(e.error) : e.message.replace(/^Uncaught /, '')}${where}`);
  });
  window.addEventListener('unhandledrejection', (e) => post('output', 'error', `Unhandled promise rejection: ${format(e.reason)}`));
  window.addEventListener('securitypolicyviolation', (e) => {
    const what = e.blockedURI || e.effectiveDirective;
    post('output', 'error', `Blocked: ${what} (${e.effectiveDirective}). Code here may connect only to ws://${config.host} and wss://${config.host}.`);
  });
  // The frame's own location is about:srcdoc, so pages here cannot build ws://${location.host}/…
  // themselves: liveUrl('wsEcho') gives the shared server's URL on this site.
  const scheme = config.parentOrigin.startsWith('https:') ? 'wss' : 'ws';
  (window as unknown as { liveUrl: (name: string) => string }).liveUrl = (name: string) => `${scheme}://${config.host}/live/${encodeURIComponent(name)}`;
  let started = false;
  window.addEventListener('message', (e) => {
    const m = e.data as { channel?: unknown; runId?: unknown; type?: unknown; code?: unknown } | null;
    if (e.source !== parent || started || !m || m.channel !== config.channel || m.runId !== config.runId || m.type !== 'run' || typeof m.code !== 'string') return;
    started = true;
    const script = document.createElement('script');
    script.type = 'module'; // its own scope, strict mode, top-level await
    script.textContent = m.code;
    document.body.append(script);
  });
  post('ready', 'stdout', '');
}

/** Script text that cannot end its element early (`</script`) or open an HTML comment: both only ever occur inside strings here. */
const inScript = (js: string) => js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

export function frameDocument(config: Omit<FrameConfig, 'channel'>, title: string): string {
  const full: FrameConfig = { ...config, channel: FRAME_CHANNEL };
  const csp = [
    "default-src 'none'",
    "script-src 'unsafe-inline'",
    "style-src 'unsafe-inline'",
    'img-src data: blob:',
    `connect-src ws://${config.host} wss://${config.host}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<title>${escapeHtml(title)}</title>
<style>
  body { margin: 0.75rem; font: 15px/1.45 system-ui, sans-serif; color: #1b1b1b; background: #fff; }
  input, button { font: inherit; }
</style>
<script>${inScript(`(${frameMain.toString()})((${formatValue.toString()}), ${JSON.stringify(full)});`)}</script>
</head>
<body></body>
</html>`;
}
