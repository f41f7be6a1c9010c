/** localStorage with a prefix, that never throws (private mode, quota, disabled storage). */
const PREFIX = 'socket-mastery:';

export const store = {
  get(key: string): string | null {
    try {
      return localStorage.getItem(PREFIX + key);
    } catch {
      return null;
    }
  },
  set(key: string, value: string) {
    try {
      localStorage.setItem(PREFIX + key, value);
    } catch {
      /* storage full or disabled: edits just are not kept */
    }
  },
  remove(key: string) {
    try {
      localStorage.removeItem(PREFIX + key);
    } catch {
      /* ignore */
    }
  },
};

/** Keys shared by the exercise panel and the overview page. */
export const keys = {
  exerciseCode: (id: string) => `exercise:${id}:code`,
  solved: (id: string) => `exercise:${id}:solved`,
  playground: (page: string, name: string) => `playground:${page}:${name}`,
};

export function isSolved(id: string): boolean {
  return store.get(keys.solved(id)) !== null;
}
export function markSolved(id: string) {
  store.set(keys.solved(id), new Date().toISOString());
}
