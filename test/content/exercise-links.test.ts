// Lessons and exercises point at each other: every <Exercise id> names a real exercise, and every
// exercise's "lesson" is a lesson that embeds it.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../sandbox-server/test/support/server-process.ts';

const lessonsDir = path.join(ROOT, 'lessons');
const exercisesDir = path.join(ROOT, 'exercises');
const lessons = (readdirSync(lessonsDir, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.mdx') && !f.startsWith('samples'))
  .map((f) => ({ slug: f.replace(/\.mdx$/, ''), text: readFileSync(path.join(lessonsDir, f), 'utf8') }));
const embedded = lessons.flatMap((l) => [...l.text.matchAll(/<Exercise\s+id="([^"]+)"/g)].map((m) => ({ lesson: l.slug, id: m[1] })));
const exercises = readdirSync(exercisesDir).map((id) => JSON.parse(readFileSync(path.join(exercisesDir, id, 'exercise.json'), 'utf8')));

describe('lesson ↔ exercise links', () => {
  it.each(embedded)('$lesson embeds an existing exercise: $id', ({ id }) => {
    expect(existsSync(path.join(exercisesDir, id, 'exercise.json')), `exercises/${id}/ does not exist`).toBe(true);
  });

  it.each(exercises.map((e) => [e.id, e.lesson]))('%s belongs to lesson %s, which embeds it', (id, lesson) => {
    expect(embedded.filter((e) => e.id === id).map((e) => e.lesson), `lessons/${lesson}.mdx should contain <Exercise id="${id}" />`).toContain(lesson);
  });
});
