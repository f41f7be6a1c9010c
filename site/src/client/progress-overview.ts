/**
 * The overview's solved marks and counts, from this browser's storage: every [data-mark] exercise
 * row and every [data-progress-of] bar (a space-separated list of exercise ids). Redrawn after an
 * import or a reset here, and when another tab changes the storage.
 */
import { PROGRESS_CHANGED } from './progress-events.ts';
import { isSolved, STORAGE_PREFIX } from './storage.ts';

const solvedText = (solved: number, total: number) => `${solved} of ${total} solved`;

export function renderProgress(root: ParentNode = document) {
  for (const el of root.querySelectorAll<HTMLElement>('[data-mark]')) {
    const yes = isSolved(el.dataset.mark!);
    el.dataset.solved = String(yes);
    el.textContent = yes ? '✓ Solved' : '○ Not solved';
  }
  for (const el of root.querySelectorAll<HTMLElement>('[data-progress-of]')) {
    const ids = el.dataset.progressOf!.split(' ').filter(Boolean);
    const solved = ids.filter(isSolved).length;
    el.dataset.solved = String(solved);
    const bar = el.querySelector('progress');
    if (bar) bar.value = solved;
    const text = el.querySelector('[data-progress-text]') ?? el;
    text.textContent = solvedText(solved, ids.length);
  }
}

renderProgress();
document.addEventListener(PROGRESS_CHANGED, () => renderProgress());
window.addEventListener('storage', (e) => {
  if (e.key === null || e.key.startsWith(STORAGE_PREFIX)) renderProgress();
});
