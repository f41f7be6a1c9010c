// A run's own Redis: one redis-server (Debian's) per run that needs one, started by the session and
// stopped with it. Only that run can use it: it listens on loopback with a password drawn for the
// run (passed on stdin, so no command line shows it) that only the run's programs are told, and a
// pod reaches it only through its own relayed service port. What a program can do to it is bounded:
// memory (writes fail with OOM past the cap, nothing is evicted behind its back), clients, pub/sub
// output buffers; nothing touches the disk; administrative and scripting commands are not allowed.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { findCommand } from '../find-command.mjs';
import { freePort } from './free-port.ts';

export const REDIS_COMMAND = 'redis-server';

/** What one run's Redis may hold and serve. `pubsubBufferMb`: a subscriber this far behind is disconnected. */
export const REDIS_LIMITS = { maxMemoryMb: 32, maxClients: 64, pubsubBufferMb: 8 } as const;

const READY_WITHIN_MS = 5000;

/** Whether redis-server is on PATH (health reports it: without it, exercises with "services": ["redis"] cannot be graded). */
export function redisInstalled(searchPath = process.env.PATH ?? ''): boolean {
  return findCommand(REDIS_COMMAND, searchPath) !== undefined;
}

export class RunRedis {
  private stopped = false;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    /** The run's password; part of `url`. */
    readonly password: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** What a program is given as REDIS_URL (node-redis and ioredis both read it). */
  get url(): string {
    return `redis://:${this.password}@127.0.0.1:${this.port}`;
  }

  static async start(options: { dir: string }): Promise<RunRedis> {
    let lastError: Error | undefined;
    // freePort() can race with another process taking the port; a second draw settles it.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const password = randomBytes(24).toString('base64url');
      try {
        return await RunRedis.launch(port, password, options.dir);
      } catch (err) {
        lastError = err as Error;
        if (!/Address already in use/i.test(lastError.message)) break;
      }
    }
    throw lastError!;
  }

  private static async launch(port: number, password: string, dir: string): Promise<RunRedis> {
    const limits = REDIS_LIMITS;
    const config = [
      `port ${port}`,
      'bind 127.0.0.1',
      'protected-mode yes',
      `dir ${dir}`,
      'save ""',
      'appendonly no',
      `maxmemory ${limits.maxMemoryMb}mb`,
      'maxmemory-policy noeviction',
      `maxclients ${limits.maxClients}`,
      `client-output-buffer-limit pubsub ${limits.pubsubBufferMb}mb ${Math.max(1, limits.pubsubBufferMb >> 2)}mb 10`,
      `client-output-buffer-limit normal ${limits.pubsubBufferMb}mb ${Math.max(1, limits.pubsubBufferMb >> 2)}mb 10`,
      'client-query-buffer-limit 4mb',
      'proto-max-bulk-len 4mb',
      'databases 4',
      'loglevel notice',
      'logfile ""',
      // The run's one user: everything a program (and the Redis adapter) needs, nothing that
      // reconfigures, stops or blocks the server, and no scripts (a Lua loop would block it).
      `user default on resetpass >${password} ~* &* +@all -@dangerous -@scripting +info +client|setname +client|id`,
    ].join('\n');
    // No environment but what the test runs' leftover check looks for: a server needs none.
    const childEnv: NodeJS.ProcessEnv = {};
    for (const key of ['PATH', 'SOCKET_MASTERY_TEST_RUN']) if (process.env[key] !== undefined) childEnv[key] = process.env[key];
    const child = spawn(REDIS_COMMAND, ['-'], { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv });
    const redis = new RunRedis(child, port, password);
    let log = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${READY_WITHIN_MS / 1000} s: ${log.slice(-400)}`)), READY_WITHIN_MS);
      const onOutput = (chunk: Buffer) => {
        log = (log + chunk.toString()).slice(-4000);
        if (log.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onOutput);
      child.stderr!.on('data', onOutput);
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(err.code === 'ENOENT' ? new Error(`${REDIS_COMMAND} is not installed (Debian package redis-server; npm run setup installs it)`) : err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${signal ?? `code ${code}`}) before it was ready: ${log.slice(-400).trim()}`));
      });
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(config + '\n');
    try {
      await ready;
    } catch (err) {
      await redis.stop();
      throw err;
    }
    // Keep draining its log so a chatty server never blocks on a full pipe.
    child.stdout!.resume();
    child.stderr!.resume();
    return redis;
  }

  /** Serves a connection relayed from a pod's network: piped to this Redis, both ways. */
  accept(socket: net.Socket): void {
    const upstream = net.connect(this.port, '127.0.0.1');
    const close = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    socket.pipe(upstream);
    upstream.pipe(socket);
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }
    await this.exited;
  }
}
