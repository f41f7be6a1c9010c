import { docsSchema } from '@astrojs/starlight/schema';
import { glob } from 'astro/loaders';
import { defineCollection, z } from 'astro:content';
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
    schema: z
      .object({
        id: z.string(),
        title: z.string(),
        lesson: z.string().default(''),
        kind: z.string().default(''),
        difficulty: z.union([z.string(), z.number()]).default(''),
        order: z.number().default(0),
        starter: z.string(),
        /** one HTML fragment per top-level `- ` bullet of hints.md */
        hints: z.array(z.string()),
      })
      .passthrough(),
  }),
};
