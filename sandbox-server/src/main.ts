// Entry point: one process serving the site, the API, the WebSocket endpoint and the shared
// reference servers. Prints its URL; stops cleanly on SIGINT/SIGTERM.
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig, PROJECT_ROOT, type Config } from './config.ts';
import { createApp } from './app.ts';
import { createEditorSocket, EDITOR_SOCKET_PATH } from './editor-socket/endpoint.ts';
import { UpgradeRouter, addLiveRoutes, livePath, LIVE_SERVER_NAMES } from './live-routes.ts';
import { ChatTerminalBridge, CHAT_TERMINAL_PATH, addChatTerminalRoute, connectHost } from './chat-terminal-bridge.ts';
import { ExerciseCatalog } from './exercises/catalog.ts';
import { Harness } from './harness/run-harness.ts';
import { Grader } from './grading/grader.ts';
import { createIsolation } from './runner/index.ts';
import { REFERENCE_SERVERS, REFERENCE_SERVER_NAMES, startReferenceServers } from './reference-servers/index.ts';
import { claimWorkDir } from './harness/work-dir.ts';
import { RunSlots } from './harness/run-slots.ts';
import { RateLimiter } from './api/rate-limit.ts';
import type { Services } from './services.ts';
import { closeInheritedDescriptors } from './inherited-fds.ts';

export interface RunningServer {
  url: string;
  services: Services;
  close(): Promise<void>;
}

export async function startServer(baseConfig: Config): Promise<RunningServer> {
  const config = { ...baseConfig, tmpDir: await claimWorkDir(baseConfig.tmpDir) };
  const version = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).version as string;
  const harness = new Harness(config, await createIsolation(config));
  const shared = await startReferenceServers({
    host: config.host,
    ports: config.referencePorts,
    limits: config.reference,
  });
  const services: Services = {
    config,
    catalog: new ExerciseCatalog(config.exercisesDir),
    harness,
    grader: new Grader(harness),
    shared,
    slots: new RunSlots(config.runSlots.slots, config.runSlots.queue, config.runSlots.queueTimeoutMs),
    rateLimiter: new RateLimiter(config.rateLimit),
  };
  const server = http.createServer(createApp(services, version));
  // One router for every upgrade: the editors' socket and the shared WebSocket servers under /live/.
  const editorSocket = createEditorSocket(services);
  const wss = editorSocket.wss;
  const upgrades = new UpgradeRouter().add(EDITOR_SOCKET_PATH, editorSocket.handleUpgrade);
  addLiveRoutes(upgrades, shared, config.trustProxyHops);
  // The lessons' chat terminal: one TCP connection to the shared chat per browser WebSocket, for
  // at most half of the chat's connections (programs on its port always find room).
  const chatBridge = new ChatTerminalBridge(
    { host: connectHost(config.host), port: shared.ports.chat },
    { idleTimeoutMs: config.reference.idleTimeoutMs, maxConnections: Math.max(1, Math.floor(config.reference.maxConnections / 2)) },
  );
  addChatTerminalRoute(upgrades, chatBridge, config.trustProxyHops);
  upgrades.attach(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    services,
    close: () =>
      (closing ??= (async () => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        await harness.shutdown(); // kills running learner processes
        await chatBridge.close();
        await shared.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await rm(config.tmpDir, { recursive: true, force: true });
      })()),
  };
}

async function main(): Promise<void> {
  closeInheritedDescriptors(); // before any child process: learner programs must not get them
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(`Configuration error: ${(err as Error).message}`);
    process.exit(2);
  }
  let running: RunningServer;
  try {
    running = await startServer(config);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const variables = ['PORT', ...REFERENCE_SERVER_NAMES.map((name) => REFERENCE_SERVERS[name].env)].join(', ');
    const hint = e.code === 'EADDRINUSE' ? ` (set ${variables} to a free port, or 0 for any)` : '';
    console.error(`Could not start: ${e.message}${hint}`);
    process.exit(1);
  }
  const { services } = running;
  const ports = services.shared!.ports;
  if (!existsSync(path.join(config.siteDir, 'index.html'))) {
    console.warn(`warning: no built site in ${config.siteDir}; run "npm run build" (npm start does it for you). The API works without it.`);
  }
  const listed = REFERENCE_SERVER_NAMES.map((name) => `${REFERENCE_SERVERS[name].title} on ${config.host}:${ports[name]}`);
  console.log(`Reference servers: ${listed.join(', ')}`);
  console.log(`WebSocket servers for browsers: ${[...LIVE_SERVER_NAMES.map(livePath), CHAT_TERMINAL_PATH].join(', ')} on the main port`);
  console.log(`Learner code isolation: ${services.harness.isolation.isolation}`);
  console.log(`Socket Mastery listening on ${running.url}`);

  const stop = (signal: string) => {
    console.log(`${signal} received, shutting down`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    running.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
