/**
 * Loads the prebuilt Monaco bundle (site/public/editor/, built by scripts/build-editor.mjs) on demand.
 * Nothing here imports Monaco statically: the module URL is only known at run time, so neither Vite
 * nor Astro ever sees Monaco or its CSS, and no lesson page carries any of it until an editor mounts.
 */
export interface EditorHandle {
  getValue(): string;
  setValue(value: string): void;
  setServerMarker(line: number, column: number, message: string): void;
  clearServerMarkers(): void;
  getMarkers(): { owner: string; line: number; column: number; message: string }[];
  focus(): void;
  revealLine(line: number): void;
  dispose(): void;
}
declare const __EDITOR_VERSION__: string;

interface EditorModule {
  mountEditor(
    host: HTMLElement,
    opts: { value: string; key: string; ariaLabel: string; onChange?: (v: string) => void; onRun?: () => void; language?: 'typescript' | 'javascript' },
  ): EditorHandle;
  loadTypes(): Promise<number>;
}

const base = `${(import.meta.env.BASE_URL ?? '/').replace(/\/$/, '')}/editor/`;
// hash of the editor build (site/public/editor/stamp.json), so cached files of an older build are not mixed in
const v = `?v=${__EDITOR_VERSION__}`;
let modulePromise: Promise<EditorModule> | null = null;

function loadCss(href: string): Promise<void> {
  return new Promise((resolve) => {
    if (document.querySelector(`link[data-monaco-css]`)) return resolve();
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = href;
    link.dataset.monacoCss = '';
    link.onload = () => resolve();
    link.onerror = () => resolve(); // an unstyled editor is still usable; do not block on it
    document.head.append(link);
  });
}

export function loadEditor(): Promise<EditorModule> {
  modulePromise ??= Promise.all([
    loadCss(`${base}monaco.css${v}`),
    import(/* @vite-ignore */ `${base}monaco.js${v}`) as Promise<EditorModule>,
  ]).then(([, mod]) => mod);
  modulePromise.catch(() => {
    modulePromise = null;
  });
  return modulePromise;
}

/**
 * Calls `mount` once, the first time `el` comes into view, is focused or is clicked.
 * Returns a function that triggers it immediately.
 */
export function whenWanted(el: HTMLElement, mount: () => void): () => void {
  let done = false;
  const fire = () => {
    if (done) return;
    done = true;
    io?.disconnect();
    el.removeEventListener('focusin', fire);
    el.removeEventListener('pointerdown', fire);
    mount();
  };
  const io =
    'IntersectionObserver' in window
      ? new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && fire(), { rootMargin: '0px 0px 50px 0px' })
      : null;
  io?.observe(el);
  el.addEventListener('focusin', fire);
  el.addEventListener('pointerdown', fire);
  return fire;
}
