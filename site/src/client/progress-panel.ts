/**
 * The overview's progress panel (components/progress/ProgressPanel.astro): Export downloads the
 * progress file, Import reads one and asks before writing, Reset asks before clearing. The file
 * logic (and zod with it) is loaded on first use, so the overview itself stays light.
 * Every message goes in with textContent: file contents never become markup.
 */
import { PROGRESS_CHANGED } from './progress-events.ts';
import { store } from './storage.ts';

const loadFileLogic = () => import('./progress-file.ts');
/** Past this many, the import dialog's list of replaced items says "… and N more". */
const LISTED_REPLACEMENTS = 20;

type Kind = 'info' | 'done' | 'error';

class ProgressPanel {
  private readonly status: HTMLElement;
  private readonly fileInput: HTMLInputElement;
  private sayTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly root: HTMLElement) {
    this.status = this.$('[data-progress-status]');
    this.fileInput = this.$<HTMLInputElement>('[data-progress-file]');
    this.action('export', () => this.exportFile());
    this.action('import', () => this.fileInput.click());
    this.action('reset', () => this.reset());
    this.fileInput.addEventListener('change', () => {
      const file = this.fileInput.files?.[0];
      // cleared so that picking the same file again (after fixing it) fires change again
      this.fileInput.value = '';
      if (file) void this.guard(() => this.importFile(file), 'Import');
    });
  }

  private $<T extends HTMLElement = HTMLElement>(sel: string): T {
    const el = this.root.querySelector<T>(sel);
    if (!el) throw new Error(`progress panel: ${sel} is missing`);
    return el;
  }

  private action(name: string, run: () => void | Promise<void>) {
    const label = name.charAt(0).toUpperCase() + name.slice(1);
    this.$(`[data-progress-action="${name}"]`).addEventListener('click', () => void this.guard(run, label));
  }

  /** Runs an action; a failure (the file logic could not be loaded, say) is reported, not swallowed. */
  private async guard(run: () => void | Promise<void>, label: string) {
    try {
      await run();
    } catch (err) {
      console.error(err);
      this.say(`${label} failed: ${(err as Error).message}. Nothing was changed.`, 'error');
    }
  }

  private say(text: string, kind: Kind = 'info') {
    this.status.dataset.kind = kind;
    // the same words twice in a row would not be announced again: clear, then write in a later task
    this.status.textContent = '';
    clearTimeout(this.sayTimer);
    this.sayTimer = setTimeout(() => {
      this.status.textContent = text;
    }, 50);
  }

  private changed() {
    document.dispatchEvent(new CustomEvent(PROGRESS_CHANGED));
  }

  /** Opens one of the panel's dialogs; resolves to whether its confirm button closed it. */
  private ask(name: 'import' | 'reset'): Promise<boolean> {
    const dialog = this.$<HTMLDialogElement>(`[data-progress-dialog="${name}"]`);
    dialog.returnValue = '';
    dialog.showModal();
    return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true }));
  }

  private async exportFile() {
    const { buildProgressFile, countFile, describeCounts, exportFileName } = await loadFileLogic();
    const now = new Date();
    const { file, skipped } = buildProgressFile(store.entries(), now);
    const name = exportFileName(now);
    const url = URL.createObjectURL(new Blob([JSON.stringify(file, null, 2) + '\n'], { type: 'application/json' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    // the download has started from the URL by then; keeping it a while costs only the blob's memory
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    const held = describeCounts(countFile(file));
    const left = skipped.length ? ` Left out, as the file format cannot hold them: ${skipped.join(', ')}.` : '';
    this.say(held === 'nothing' ? `Downloaded ${name}. It is empty: nothing has been edited or solved in this browser yet.${left}` : `Downloaded ${name} with ${held}.${left}`, skipped.length ? 'error' : 'done');
  }

  private async importFile(picked: File) {
    const { describeCounts, describeImport, planImport, readProgressFile, sizeRefusal } = await loadFileLogic();
    const refused = sizeRefusal(picked.size);
    if (refused) return this.say(`${picked.name} was not imported. ${refused} Nothing was changed.`, 'error');
    const read = readProgressFile(await picked.text());
    if (!read.ok) return this.say(`${picked.name} was not imported. ${read.message} Nothing was changed.`, 'error');
    const plan = planImport(store.entries(), read.file);
    if (!plan.writes.length) return this.say(`Nothing to import: this browser already holds everything in ${picked.name}.`, 'done');

    this.$('[data-import-summary]').textContent = describeImport(read.file, plan);
    const list = this.$('[data-import-replaced]');
    const items = plan.replaced.slice(0, LISTED_REPLACEMENTS).map((what) => Object.assign(document.createElement('li'), { textContent: what }));
    if (plan.replaced.length > LISTED_REPLACEMENTS) items.push(Object.assign(document.createElement('li'), { textContent: `… and ${plan.replaced.length - LISTED_REPLACEMENTS} more` }));
    list.replaceChildren(...items);
    list.hidden = !items.length;
    if (!(await this.ask('import'))) return this.say('Import cancelled. Nothing was changed.');

    if (!store.setAll(plan.writes)) {
      return this.say(`${picked.name} was not imported: this browser refused to store it (its storage is full or turned off). Nothing was changed.`, 'error');
    }
    this.changed();
    const replaced = plan.replaced.length ? `, replacing ${plan.replaced.length === 1 ? '1 item' : `${plan.replaced.length} items`}` : '';
    this.say(`Imported ${picked.name}: added ${describeCounts(plan.added)}${replaced}.`, 'done');
  }

  private async reset() {
    const { countStored, describeCounts } = await loadFileLogic();
    const entries = store.entries();
    if (!entries.length) return this.say('Nothing to reset: this browser holds no code, solved marks or settings of this course.');
    const held = describeCounts(countStored(entries));
    this.$('[data-reset-summary]').textContent =
      `This removes ${held === 'nothing' ? 'the settings' : held} of this course from this browser` +
      ' (other sites keep theirs). It cannot be undone: export first if you may want your work back.';
    if (!(await this.ask('reset'))) return this.say('Reset cancelled. Nothing was changed.');
    const removed = store.clear();
    this.changed();
    this.say(`Progress reset: ${removed === 1 ? '1 entry' : `${removed} entries`} removed from this browser.`, 'done');
  }
}

const root = document.querySelector<HTMLElement>('[data-progress-panel]');
if (root) new ProgressPanel(root);
