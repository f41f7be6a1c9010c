// @ts-check
import starlight from '@astrojs/starlight';
import { defineConfig } from 'astro/config';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sectionLabel } from './src/lib/sections.mjs';
import rehypeScrollableTables from './src/lib/rehype-scrollable-tables.mjs';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
// SOCKET_MASTERY_LESSONS_DIR (absolute path) lets the site be tried on another lessons folder.
const lessonsDir = process.env.SOCKET_MASTERY_LESSONS_DIR
  ? process.env.SOCKET_MASTERY_LESSONS_DIR.replace(/\/?$/, '/')
  : fileURLToPath(new URL('../lessons/', import.meta.url));

const sectionDirs = existsSync(lessonsDir)
  ? readdirSync(lessonsDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && /^\d+-/.test(e.name))
      .map((e) => e.name)
      .sort()
  : [];
const siteDocsDir = fileURLToPath(new URL('./src/content/docs/', import.meta.url));
const lessonsFromDocsDir = path.relative(path.join(siteDocsDir, '../../..'), lessonsDir).split(path.sep).join('/');

/** The editor bundle's build hash (scripts/build-editor.mjs runs before astro build). */
function editorVersion() {
  try {
    return JSON.parse(readFileSync(new URL('./public/editor/stamp.json', import.meta.url), 'utf8')).hash.slice(0, 12);
  } catch {
    return 'dev';
  }
}

const hasHome = ['index.mdx', 'index.md'].some((f) => existsSync(lessonsDir + f));

/**
 * Course-specific routes: a stand-in home page while lessons/index.mdx does not exist yet, and the
 * component test page (only when SOCKET_MASTERY_TEST_PAGES=1, used by scripts/test-browser.mjs when
 * no lesson embeds the test exercise yet).
 * @returns {import('astro').AstroIntegration}
 */
function courseRoutes() {
  return {
    name: 'socket-mastery:routes',
    hooks: {
      'astro:config:setup': ({ injectRoute, logger }) => {
        if (!hasHome) {
          logger.warn('lessons/index.mdx not found: using the stand-in home page site/src/routes/home.astro');
          injectRoute({ pattern: '/', entrypoint: './src/routes/home.astro' });
        }
        if (process.env.SOCKET_MASTERY_TEST_PAGES === '1') {
          injectRoute({ pattern: '/test/components', entrypoint: './src/routes/test-components.astro' });
        }
      },
    },
  };
}

export default defineConfig({
  site: 'http://127.0.0.1/',
  // the content cache must not mix two lessons folders (the glob loader keeps stale entries when a
  // folder has no match), so another lessons folder gets its own cache
  ...(process.env.SOCKET_MASTERY_LESSONS_DIR ? { cacheDir: './node_modules/.astro-other-lessons' } : {}),
  trailingSlash: 'ignore',
  integrations: [
    starlight({
      title: 'Socket Mastery',
      description: 'An interactive course on real-time communication in Node.js with TypeScript: TCP, UDP, WebSockets, Socket.IO.',
      customCss: ['./src/styles/course.css'],
      components: {
        Search: './src/components/overrides/Search.astro',
      },
      sidebar: [
        {
          label: 'Start here',
          items: [
            { label: 'Home', link: '/' },
            { label: 'Course overview', link: '/overview/' },
          ],
        },
        // Starlight matches autogenerate directories against each entry's file path relative to
        // src/content/docs; ours live in ../lessons, so the directory is given the same way.
        ...sectionDirs.map((dir) => ({ label: sectionLabel(dir), autogenerate: { directory: `${lessonsFromDocsDir}/${dir}` } })),
      ],
      // Lessons live outside src/content/docs: have Starlight's Markdown pipeline (asides like
      // :::note, heading anchors) process them too.
      markdown: { processedDirs: [lessonsDir] },
      pagefind: true,
      lastUpdated: false,
      credits: false,
    }),
    courseRoutes(),
  ],
  // Markdown and MDX alike (lessons, exercise instructions): wide tables scroll and so take focus.
  markdown: { rehypePlugins: [rehypeScrollableTables] },
  vite: {
    define: {
      __EDITOR_VERSION__: JSON.stringify(editorVersion()),
    },
    resolve: {
      alias: {
        '@course': fileURLToPath(new URL('./src/components', import.meta.url)),
      },
    },
    server: {
      // lessons import ../samples/*.ts?raw from outside site/
      fs: { allow: [repoRoot, lessonsDir] },
      // `npm run dev:site`: the API and its WebSocket come from a running sandbox server
      // (`npm run serve`, port 4321 by default), so the site can use relative /api URLs as in production
      proxy: {
        '/api': { target: process.env.SOCKET_MASTERY_API || 'http://127.0.0.1:4321', ws: true, changeOrigin: true },
        // the shared WebSocket reference servers that lesson pages' browser code connects to
        '/live': { target: process.env.SOCKET_MASTERY_API || 'http://127.0.0.1:4321', ws: true, changeOrigin: true },
      },
    },
  },
});
