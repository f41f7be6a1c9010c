/**
 * The part of the Web Storage API this course uses, behind a key prefix, and calls that never throw
 * (private mode, quota, storage disabled by the browser). Takes the storage as a getter because in
 * some browsers merely reading `localStorage` throws when storage is disabled. DOM-free, so it is
 * unit-tested with a stand-in storage (test/site/progress-file.test.ts).
 */
export interface KeyValueStorage {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function prefixedStore(storage: () => KeyValueStorage, prefix: string) {
  const self = {
    get(key: string): string | null {
      try {
        return storage().getItem(prefix + key);
      } catch {
        return null;
      }
    },
    set(key: string, value: string) {
      try {
        storage().setItem(prefix + key, value);
      } catch {
        /* storage full or disabled: edits just are not kept */
      }
    },
    remove(key: string) {
      try {
        storage().removeItem(prefix + key);
      } catch {
        /* ignore */
      }
    },
    /** Every key under the prefix (given without it) with its value; the origin's other keys are left out. */
    entries(): [string, string][] {
      const found: [string, string][] = [];
      try {
        const s = storage();
        for (let i = 0; i < s.length; i += 1) {
          const full = s.key(i);
          if (full === null || !full.startsWith(prefix)) continue;
          const value = s.getItem(full);
          if (value !== null) found.push([full.slice(prefix.length), value]);
        }
      } catch {
        /* storage disabled: nothing is kept */
      }
      return found;
    },
    /**
     * Writes all the entries or none: when one is refused (storage full or disabled), the ones written
     * before it get their old values back. Returns whether all were written.
     */
    setAll(entries: Iterable<readonly [string, string]>): boolean {
      const before: [string, string | null][] = [];
      try {
        const s = storage();
        for (const [key, value] of entries) {
          before.push([key, s.getItem(prefix + key)]);
          s.setItem(prefix + key, value);
        }
        return true;
      } catch {
        for (const [key, old] of before.reverse()) {
          if (old === null) self.remove(key);
          else self.set(key, old); // reuses the room the new value took
        }
        return false;
      }
    },
    /** Removes every key under the prefix (and only those); returns how many there were. */
    clear(): number {
      const mine = self.entries().map(([key]) => key);
      for (const key of mine) self.remove(key);
      return mine.length;
    },
  };
  return self;
}
