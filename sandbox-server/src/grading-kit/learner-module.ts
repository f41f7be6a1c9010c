// Module exercises: the learner's file exports functions or classes. They run in the learner's
// process; the test calls them through a small driver over TCP and checks the answers here.
import net from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { currentGrade, GradingFailure, oncePerGrade, type GradeContext } from './context.ts';
import { describeExit, READY_WITHIN_MS, startLearner } from './learner.ts';

export const MODULE_DRIVER_FILE = 'driver.mjs';
export const moduleDriverSource = (): string => readFileSync(new URL('./module-driver.mjs', import.meta.url), 'utf8');
const CALL_WITHIN_MS = 2000;

type Wire = unknown;

function encode(value: unknown): Wire {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { $buffer: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  return value;
}

function decode(value: Wire): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('$buffer' in v) return Buffer.from(v.$buffer as string, 'base64');
    if ('$undefined' in v) return undefined;
    if ('$handle' in v) return { $handle: v.$handle };
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
  }
  return value;
}

export class RemoteObject {
  constructor(
    private readonly module: LearnerModule,
    readonly handle: number,
    readonly label: string,
  ) {}

  call(method: string, ...args: unknown[]): Promise<unknown> {
    return this.module.request({ op: 'method', handle: this.handle, name: method, args }, `${this.label}.${method}()`);
  }
}

export class LearnerModule {
  private nextId = 1;
  private buffered = '';
  /** A call ran past its time: the learner's code may still be busy with it. */
  private overran = false;
  private retired = false;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly socket: net.Socket,
    private readonly learner: ReturnType<typeof startLearner>,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffered += text;
      let nl;
      while ((nl = this.buffered.indexOf('\n')) !== -1) {
        const reply = JSON.parse(this.buffered.slice(0, nl)) as { id: number; result?: Wire; error?: string };
        this.buffered = this.buffered.slice(nl + 1);
        const waiter = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        if (reply.error !== undefined) waiter?.reject(new GradingFailure(reply.error));
        else waiter?.resolve(decode(reply.result));
      }
    });
    socket.on('error', () => {});
  }

  /** `what` names, for messages, the learner's call this lookup is part of. */
  async exports(what = 'looking up what your file exports'): Promise<string[]> {
    return (await this.request({ op: 'exports', args: [] }, what)) as string[];
  }

  /** `new Name(...args)` in the learner's process. */
  async construct(name: string, ...args: unknown[]): Promise<RemoteObject> {
    const what = `new ${name}()`;
    await this.requireExport(name, what);
    const made = (await this.request({ op: 'new', name, args }, what)) as { $handle?: number };
    if (!made?.$handle) throw new GradingFailure(`${what} did not create an object`);
    return new RemoteObject(this, made.$handle, name);
  }

  /** `name(...args)` exported by the learner's module. */
  async call(name: string, ...args: unknown[]): Promise<unknown> {
    const what = `${name}()`;
    await this.requireExport(name, what);
    return this.request({ op: 'call', name, args }, what);
  }

  /**
   * Whether the next test needs a fresh process: a call is still running (its test gave up on it),
   * a call ran past its time, or the program ended. Each test is judged on its own.
   */
  get spent(): boolean {
    return this.pending.size > 0 || this.overran || this.learner.hasExited;
  }

  /** Ends this process; calls still waiting fail, later ones fail at once. */
  retire(): void {
    this.retired = true;
    this.learner.kill();
    this.socket.destroy();
    for (const waiter of this.pending.values()) waiter.reject(new GradingFailure('the test ended before this call returned'));
    this.pending.clear();
  }

  private async requireExport(name: string, what: string): Promise<void> {
    const names = await this.exports(what);
    if (!names.includes(name)) {
      throw new GradingFailure(`your file must export ${name} (export class ${name} … or export function ${name} …); it exports ${names.length ? names.join(', ') : 'nothing'}`);
    }
  }

  request(message: { op: string; name?: string; handle?: number; args: unknown[] }, what: string): Promise<unknown> {
    if (this.retired) return Promise.reject(new GradingFailure(`${what} was not run: the test had already ended`));
    const id = this.nextId++;
    this.socket.write(JSON.stringify({ id, ...message, args: encode(message.args) }) + '\n');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.overran = true;
        reject(new GradingFailure(`${what} did not return within ${CALL_WITHIN_MS / 1000} s (an endless loop?)`));
      }, CALL_WITHIN_MS);
      this.learner.exited.then((exit) => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        reject(new GradingFailure(`while running ${what}, ${describeExit(this.learner, exit)}`));
      });
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }
}

const MODULE_KEY = 'kit:learner-module';

interface LoadedModule {
  loading: Promise<LearnerModule>;
  loaded?: LearnerModule;
}

/** The learner's module in its own process, loaded once per grade (and again after a test spent it). */
export function learnerModule(): Promise<LearnerModule> {
  return oncePerGrade<LoadedModule>(MODULE_KEY, () => {
    const entry: LoadedModule = { loading: loadModule() };
    entry.loading.then((module) => (entry.loaded = module)).catch(() => {});
    return entry;
  }).loading;
}

/**
 * Called by the grader after each test: a module process the test left busy or ended is replaced
 * for the next test, which would otherwise wait behind a stuck call or report the same exit. A
 * module that failed to load stays failed (loading it again would fail again, slowly).
 */
export function replaceSpentModule(ctx: GradeContext): void {
  const entry = ctx.shared.get(MODULE_KEY) as LoadedModule | undefined;
  if (!entry?.loaded?.spent) return;
  ctx.shared.delete(MODULE_KEY);
  entry.loaded.retire();
}

async function loadModule(): Promise<LearnerModule> {
  const ctx = currentGrade();
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  ctx.cleanups.push(() => listener.close());
  const port = (listener.address() as net.AddressInfo).port;
  const learner = ctx.session.startLearner({
    entry: MODULE_DRIVER_FILE,
    env: { GRADER_PORT: String(port) },
    services: [{ port, accept: (socket) => listener.emit('connection', socket) }],
  });
  ctx.processes.push(learner);
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const timer = setTimeout(() => reject(new GradingFailure(`your module did not load within ${READY_WITHIN_MS / 1000} s`)), READY_WITHIN_MS);
    listener.once('connection', (s) => (clearTimeout(timer), resolve(s)));
    learner.exited.then((exit) => (clearTimeout(timer), reject(new GradingFailure(`your module could not be loaded: ${describeExit(learner, exit)}`))));
  });
  listener.close(); // one driver per process
  ctx.cleanups.push(() => socket.destroy());
  return new LearnerModule(socket, learner);
}
