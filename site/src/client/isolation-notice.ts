/**
 * Tells learners (and the operator trying the site) when the server runs code without OS-level
 * isolation: /api/health reports the mode; anything but "bwrap" gets a visible notice in each panel.
 */
import { fetchJson } from './server-connection';

let mode: Promise<string | null> | undefined;

function isolationMode(): Promise<string | null> {
  // through fetchJson, so the API is found under the site's base path as every other request is
  mode ??= fetchJson<{ isolation?: string }>('/api/health', () => {}, 1)
    .then((health) => health.isolation ?? null)
    .catch(() => null);
  return mode;
}

export async function showIsolationNotice(panel: HTMLElement): Promise<void> {
  const isolation = await isolationMode();
  if (!isolation || isolation === 'bwrap' || panel.querySelector('.sm-isolation-notice')) return;
  const note = document.createElement('p');
  note.className = 'sm-isolation-notice';
  note.setAttribute('role', 'note');
  note.textContent =
    `This server runs code with weak isolation ("${isolation}"): programs are limited, but not sandboxed from the host. ` +
    'Fine on your own machine; an operator should enable strong isolation before others use it.';
  panel.prepend(note);
}
