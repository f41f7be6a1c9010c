/** The course's localStorage: every key under one prefix, calls that never throw (see storage-prefixed.ts). */
import { keys } from './storage-keys.ts';
import { prefixedStore } from './storage-prefixed.ts';

export { keys };

/** Reset on the overview removes everything under this prefix, and nothing else of the origin. */
export const STORAGE_PREFIX = 'socket-mastery:';

export const store = prefixedStore(() => localStorage, STORAGE_PREFIX);

export function isSolved(id: string): boolean {
  return store.get(keys.solved(id)) !== null;
}
export function markSolved(id: string) {
  store.set(keys.solved(id), new Date().toISOString());
}
