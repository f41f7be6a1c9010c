// What the live demos share: the URL of a shared server on this site (/live/<name>, ws: or wss:
// as the page), doing something once a widget comes into view (so a page does not load xterm or
// uPlot, or connect, for a widget nobody scrolled to), and CSS injected at run time (a bundled
// stylesheet of a lazily imported module would be hoisted into every page's <head>).

/** ws(s)://<this site's host>/live/<name>, with an optional query. */
export function liveUrl(name: string, query: Record<string, string> = {}): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const base = (import.meta.env.BASE_URL ?? '/').replace(/\/$/, '');
  const search = new URLSearchParams(query).toString();
  return `${proto}//${location.host}${base}/live/${name}${search ? `?${search}` : ''}`;
}

/** Calls `fn` once, the first time `el` is within a screen's height of the viewport. */
export function whenNearView(el: Element, fn: () => void): void {
  if (!('IntersectionObserver' in window)) return fn();
  const observer = new IntersectionObserver(
    (entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      observer.disconnect();
      fn();
    },
    { rootMargin: '50% 0px' },
  );
  observer.observe(el);
}

const injected = new Set<string>();

/** Adds a stylesheet (as text) to the page once per id. */
export function injectCss(id: string, css: string): void {
  if (injected.has(id) || document.querySelector(`style[data-demo-css="${id}"]`)) return;
  injected.add(id);
  const style = document.createElement('style');
  style.dataset.demoCss = id;
  style.textContent = css;
  document.head.append(style);
}

/** Whether the page is in dark mode (Starlight's theme picker sets data-theme on <html>). */
export function isDark(): boolean {
  return document.documentElement.dataset.theme === 'dark';
}

/** Calls `fn` whenever the page switches between light and dark. */
export function onThemeChange(fn: () => void): void {
  new MutationObserver(fn).observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
}

/** What a close code and reason mean, in a sentence for the status line. */
export function describeClose(code: number, reason: string): string {
  const why = reason || CLOSE_MEANINGS[code] || `code ${code}`;
  return `Disconnected: ${why}.`;
}

const CLOSE_MEANINGS: Record<number, string> = {
  1000: 'closed normally',
  1001: 'the server closed the connection (idle, or going away)',
  1006: 'the connection was lost',
  1008: 'too many messages',
  1009: 'a message was too large',
  1011: 'the server could not go on',
  1013: 'the server is full, try again later',
};

/**
 * Calls `handle` with each text message of `ws` parsed as JSON. What the shared servers send is JSON
 * text: anything else (a binary message, text that does not parse) is ignored, never shown.
 */
export function onJsonMessage<T>(ws: WebSocket, handle: (message: T) => void): void {
  ws.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return;
    let message: T;
    try {
      message = JSON.parse(event.data) as T;
    } catch {
      return;
    }
    handle(message);
  });
}
