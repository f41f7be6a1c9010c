/**
 * The editor bundle: Monaco 0.57 (self-hosted) + TypeScript language support.
 *
 * Built once by scripts/build-editor.mjs into site/public/editor/monaco.js (with monaco.css, the
 * codicon font and two module workers beside it). It is never part of the Astro/Vite graph: lesson
 * pages load it with a runtime `import()` of its URL only when an editor scrolls into view or is
 * focused, and inject monaco.css with a <link> at that moment, so nothing of Monaco is render-blocking.
 */
import * as monaco from 'monaco-editor/editor';
import 'monaco-editor/features/register.all';
import 'monaco-editor/languages/definitions/typescript/register';
// browser-side lesson code (BrowserPlayground) is JavaScript: syntax checks only, DOM completions
import 'monaco-editor/languages/definitions/javascript/register';
import { typescriptDefaults, ModuleKind, ModuleResolutionKind, ScriptTarget } from 'monaco-editor/languages/features/typescript/register';

const base = new URL('./', import.meta.url);
// the page imports monaco.js?v=<build hash>; pass the same version on to the workers and types
// so a browser never mixes files of two builds (the server caches /editor/* for an hour)
const version = new URL(import.meta.url).search;
const asset = (file: string) => new URL(file + version, base);

// Module workers, self-hosted next to this file. Monaco asks by label.
(globalThis as any).MonacoEnvironment = {
  getWorker(_moduleId: string, label: string) {
    const file = label === 'typescript' || label === 'javascript' ? 'ts.worker.js' : 'editor.worker.js';
    return new Worker(asset(file), { type: 'module', name: label });
  },
};

typescriptDefaults.setCompilerOptions({
  target: 9 as ScriptTarget, // ES2022: Monaco's enum stops at ES2020 (7); TypeScript's ES2022 is 9
  module: ModuleKind.ESNext,
  moduleResolution: ModuleResolutionKind.NodeJs,
  // in a compilerOptions object (not tsconfig JSON), lib entries are file names
  lib: ['lib.es2022.d.ts'],
  strict: true,
  noEmit: true,
  esModuleInterop: true,
  allowSyntheticDefaultImports: true,
  skipLibCheck: true,
  // every model on the page is a separate module, so two editors never clash on top-level names
  moduleDetection: 3,
  allowImportingTsExtensions: true,
  types: [],
} as any);
typescriptDefaults.setDiagnosticsOptions({ noSemanticValidation: false, noSyntaxValidation: false });
typescriptDefaults.setEagerModelSync(true);

let typesPromise: Promise<number> | null = null;
/** Load the generated .d.ts bundle (node:net, dgram, events, Buffer, ws, socket.io-client) once. */
export function loadTypes(): Promise<number> {
  typesPromise ??= fetch(asset('types.json'))
    .then((r) => {
      if (!r.ok) throw new Error(`types.json: HTTP ${r.status}`);
      return r.json() as Promise<Record<string, string>>;
    })
    .then((files) => {
      const t0 = performance.now();
      for (const [path, text] of Object.entries(files)) typescriptDefaults.addExtraLib(text, path);
      return performance.now() - t0;
    })
    .catch((err) => {
      console.warn('[editor] type definitions not loaded:', err);
      typesPromise = null;
      return -1;
    });
  return typesPromise;
}

// Monaco's own themes with the few colours that fail WCAG AA (4.5:1) on their backgrounds fixed:
// vs-dark comments (#608b4e on #1e1e1e = 4.2:1) and line numbers (#858585 = 4.4:1).
monaco.editor.defineTheme('course-dark', {
  base: 'vs-dark',
  inherit: true,
  rules: [{ token: 'comment', foreground: '7ca668' }],
  colors: { 'editorLineNumber.foreground': '#9a9a9a' },
});
monaco.editor.defineTheme('course-light', { base: 'vs', inherit: true, rules: [], colors: {} });

function currentTheme(): string {
  return document.documentElement.dataset.theme === 'light' ? 'course-light' : 'course-dark';
}
let themeWatcher: MutationObserver | null = null;
function watchTheme() {
  if (themeWatcher) return;
  themeWatcher = new MutationObserver(() => monaco.editor.setTheme(currentTheme()));
  themeWatcher.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
}

export interface MountOptions {
  value: string;
  /** unique per editor on the page, e.g. "exercise/tcp-echo-server" */
  key: string;
  ariaLabel: string;
  onChange?: (value: string) => void;
  onRun?: () => void;
  /** 'javascript' for code that runs in the browser; TypeScript (the default) for Node programs. */
  language?: 'typescript' | 'javascript';
}

export interface EditorHandle {
  getValue(): string;
  setValue(value: string): void;
  /** Marker from the sandbox (compile error), 1-based line/column. */
  setServerMarker(line: number, column: number, message: string): void;
  clearServerMarkers(): void;
  getMarkers(): { owner: string; line: number; column: number; message: string }[];
  focus(): void;
  revealLine(line: number): void;
  dispose(): void;
}

const SERVER_OWNER = 'sandbox';

export function mountEditor(host: HTMLElement, opts: MountOptions): EditorHandle {
  watchTheme();
  void loadTypes();
  const language = opts.language ?? 'typescript';
  const uri = monaco.Uri.parse(`file:///${opts.key.replace(/[^a-zA-Z0-9/_-]/g, '-')}/main.${language === 'javascript' ? 'js' : 'ts'}`);
  const model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(opts.value, language, uri);
  model.setValue(opts.value);
  const editor = monaco.editor.create(host, {
    model,
    theme: currentTheme(),
    ariaLabel: opts.ariaLabel,
    automaticLayout: true,
    minimap: { enabled: false },
    scrollBeyondLastLine: false,
    // 'dimmed' draws the last line number in a low-contrast colour (axe: color-contrast)
    renderFinalNewline: 'on',
    fontSize: 14,
    lineNumbersMinChars: 3,
    tabSize: 2,
    renderLineHighlight: 'line',
    fixedOverflowWidgets: true,
    accessibilitySupport: 'auto',
    scrollbar: { alwaysConsumeMouseWheel: false },
  });
  editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => opts.onRun?.());
  model.onDidChangeContent(() => {
    // an edit invalidates a compile-error marker from the server
    monaco.editor.setModelMarkers(model, SERVER_OWNER, []);
    opts.onChange?.(model.getValue());
  });
  return {
    getValue: () => model.getValue(),
    setValue: (v) => {
      // keep undo history: replace through an edit instead of setValue
      editor.executeEdits('course', [{ range: model.getFullModelRange(), text: v }]);
      editor.pushUndoStop();
    },
    setServerMarker(line, column, message) {
      const l = Math.min(Math.max(1, line), model.getLineCount());
      const maxCol = model.getLineMaxColumn(l);
      const c = Math.min(Math.max(1, column), maxCol);
      const word = model.getWordAtPosition({ lineNumber: l, column: c });
      const end = word && word.endColumn > c ? word.endColumn : Math.min(c + 1, maxCol);
      monaco.editor.setModelMarkers(model, SERVER_OWNER, [
        {
          severity: monaco.MarkerSeverity.Error,
          message,
          startLineNumber: l,
          startColumn: c,
          endLineNumber: l,
          endColumn: Math.max(end, c + 1),
          source: 'sandbox',
        },
      ]);
      editor.revealLineInCenterIfOutsideViewport(l);
    },
    clearServerMarkers: () => monaco.editor.setModelMarkers(model, SERVER_OWNER, []),
    getMarkers: () =>
      monaco.editor.getModelMarkers({ resource: uri }).map((m) => ({
        owner: m.owner,
        line: m.startLineNumber,
        column: m.startColumn,
        message: m.message,
      })),
    focus: () => editor.focus(),
    revealLine: (line) => editor.revealLineInCenter(line),
    dispose: () => {
      editor.dispose();
      model.dispose();
    },
  };
}

export { monaco };
