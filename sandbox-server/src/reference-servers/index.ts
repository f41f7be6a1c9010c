// One set of reference servers, one of each registry entry: the shared long-running set for live
// demos, or a fresh set for each run and grade (so concurrent learners never see each other).
import type { ReferenceLimits } from '../config.ts';
import type { TrafficLog } from '../traffic/traffic-log.ts';
import { REFERENCE_SERVERS, REFERENCE_SERVER_NAMES, type ReferenceServer, type ReferenceServerName, type ReferenceServerOf } from './registry.ts';

export * from './registry.ts';

/** Each server by its registry name (e.g. `chat`), their ports, and one close for all. */
export type ReferenceServers = { [N in ReferenceServerName]: ReferenceServerOf<N> } & {
  ports: Record<ReferenceServerName, number>;
  close(): Promise<void>;
};

export async function startReferenceServers(
  options: {
    host?: string;
    /** A port per server (0 or missing = any free port). */
    ports?: Partial<Record<ReferenceServerName, number>>;
    traffic?: TrafficLog;
    /** The shared servers' limits; a run's servers use each server's defaults. */
    limits?: ReferenceLimits;
  } = {},
): Promise<ReferenceServers> {
  const host = options.host ?? '127.0.0.1';
  const servers = new Map<ReferenceServerName, ReferenceServer>(
    REFERENCE_SERVER_NAMES.map((name) => [name, REFERENCE_SERVERS[name].create({ traffic: options.traffic, limits: options.limits })]),
  );
  const close = async () => {
    await Promise.allSettled([...servers.values()].map((s) => s.close()));
  };
  try {
    const ports = Object.fromEntries(
      await Promise.all([...servers].map(async ([name, server]) => [name, await server.listen(options.ports?.[name] ?? 0, host)] as const)),
    ) as Record<ReferenceServerName, number>;
    return Object.assign(Object.fromEntries(servers) as { [N in ReferenceServerName]: ReferenceServerOf<N> }, { ports, close });
  } catch (err) {
    await close();
    throw err;
  }
}
