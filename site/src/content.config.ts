import { docsSchema } from '@astrojs/starlight/schema';
import { glob } from 'astro/loaders';
import { defineCollection, z } from 'astro:content';
import { DIFFICULTIES, EXERCISE_ID, EXERCISE_KINDS } from '../../sandbox-server/src/shapes/exercise.ts';
import { exercisesLoader } from './lib/exercises-loader';

export const collections = {
  // Lessons live in the top-level lessons/ folder, not in site/src/content. Sample programs that
  // lessons import with ?raw live in lessons/samples/ and are not pages.
  docs: defineCollection({
    loader: glob({
      base: process.env.SOCKET_MASTERY_LESSONS_DIR || '../lessons',
      pattern: ['**/[^_]*.{md,mdx}', '!samples/**'],
    }),
    schema: docsSchema(),
  }),
  // One entry per exercises/<id>/ folder: exercise.json + instructions.md + starter.ts + hints.md,
  // rendered at build time. The solution is never part of the site (fetched from the API on demand).
  exercises: defineCollection({
    loader: exercisesLoader({ base: '../exercises' }),
    // The fields the site shows, with the server's own values (sandbox-server/src/shapes/exercise.ts;
    // Astro's schemas are its own zod 3, so the lists are shared, not the zod 4 schema itself).
    schema: z
      .object({
        id: z.string().regex(EXERCISE_ID),
        title: z.string(),
        lesson: z.string(),
        kind: z.enum(EXERCISE_KINDS),
        difficulty: z.enum(DIFFICULTIES),
        order: z.number().int().nonnegative(),
        starter: z.string(),
        /** one HTML fragment per top-level `- ` bullet of hints.md */
        hints: z.array(z.string()),
      })
      .passthrough(),
  }),
};
