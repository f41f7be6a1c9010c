/** The course's storage keys (without the prefix), shared by the code panels, the overview and the progress file. */
export const keys = {
  exerciseCode: (id: string) => `exercise:${id}:code`,
  solved: (id: string) => `exercise:${id}:solved`,
  playground: (page: string, name: string) => `playground:${page}:${name}`,
};

export type StoredKey = { kind: 'exerciseCode' | 'solved'; id: string } | { kind: 'playground'; name: string };

/** What a key made by `keys` holds; null for any other key. `name` is everything after "playground:". */
export function parseKey(key: string): StoredKey | null {
  const exercise = /^exercise:([^:]+):(code|solved)$/.exec(key);
  if (exercise) return { kind: exercise[2] === 'code' ? 'exerciseCode' : 'solved', id: exercise[1]! };
  if (key.startsWith('playground:')) return { kind: 'playground', name: key.slice('playground:'.length) };
  return null;
}

/** The key of a playground by the name parseKey gives it. */
export const playgroundKeyOf = (name: string) => `playground:${name}`;
