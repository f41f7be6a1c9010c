// `npm start`: build the site if there is no build yet, then run the server in this process's place.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const siteIndex = path.join(process.env.SITE_DIR || path.join(root, 'site/dist'), 'index.html');

if (!existsSync(siteIndex)) {
  console.log('No built site yet: building it once (npm run build)…');
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('The site build failed; see the output above.');
    process.exit(build.status ?? 1);
  }
}

// Same process: signals (Ctrl+C, SIGTERM) reach the server directly.
process.argv = [process.argv[0], path.join(root, 'sandbox-server/src/main.ts')];
const { register } = await import('tsx/esm/api');
register();
await import('../sandbox-server/src/main.ts');
