// Grading tests of the dashboard broadcaster (instructions.md), black-box over WebSockets. Timing is
// judged by order and counts (a reply before the next one's answer, ticks with no number missing,
// pings before a drop, ticks per heartbeat) against generous deadlines, never by measuring
// intervals with the grader's clock. Every test opens
// its own clients and metric names (the server's metrics outlive a test) and keeps each client well
// under two heartbeat intervals, the least a server that drops live clients gives them, except the
// heartbeat tests and the slow-client test, which starts right after a heartbeat.
import { afterEach, describe, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import { GradingFailure, type TestWebSocket } from '../../sandbox-server/src/grading-kit/index.ts';
import {
  connect,
  expectConsecutive,
  justAfterHeartbeat,
  nextTick,
  opened,
  publish,
  reply,
  show,
  subscribe,
  ticksReceived,
  unsubscribe,
  type Tick,
} from './dashboard-client.ts';

const HEARTBEAT_MS = 1000;
const TICK_MS = 100;
/** Ticks per heartbeat interval that pass: about 10, wide enough for a loaded machine, narrow enough to refuse 250 ms or 20 ms. */
const TICKS_PER_BEAT = { min: 5, max: 20 };
/** A client is dropped at the beat after this many unanswered pings: 2 to 3 s after its last pong. */
const UNANSWERED = 2;

/** Equal JSON values, whatever the order of their keys. */
const same = (got: unknown, expected: unknown): boolean => isDeepStrictEqual(got, expected);

/** A failure's message as a sentence that more can follow. */
const sentence = (err: unknown): string => `${(err instanceof Error ? err.message : String(err)).replace(/[.\s]+$/, '')}.`;
const SLOW_BYTES = 64 * 1024;
/** What the slow client is sent each tick: far more than the kernel's buffers hold for a client that does not read. */
const BIG_VALUE = 'x'.repeat(8 * 1024 * 1024);

/** A client's tick numbers so far, for failure messages. */
const ticksNumbered = (client: TestWebSocket): string => ticksReceived(client).map((t) => t.tick).join(', ') || 'none';

describe('dashboard broadcaster', () => {
  afterEach(() => {
    for (const client of opened().splice(0)) client.terminate();
  });

  describe('publish and subscribe', () => {
    it('answers a subscribe at once with a snapshot of the latest values of the metrics named', async () => {
      const agent = await connect('agent');
      await publish(agent, 'snap-cpu', 1);
      await publish(agent, 'snap-cpu', 42);
      await publish(agent, 'snap-disk', { free: [1, 2, 3], unit: 'GB' });
      await publish(agent, 'snap-null', null);
      const late = await connect('late joiner');
      // A publish sent right behind the subscribe: an answer at once comes before its "published".
      const behind = { type: 'publish', metric: 'snap-behind', value: 1 };
      const snapshot = await subscribe(late, ['snap-cpu', 'snap-disk', 'snap-null', 'snap-none'], behind);
      const second = await reply(late, `{"type":"published","metric":"snap-behind"} after the snapshot`);
      if (second.type !== 'published') throw new GradingFailure(`${late.label} sent a subscribe and then ${show(behind)}; after the snapshot it expected {"type":"published","metric":"snap-behind"}, but got ${show(second)}`);
      if (!Number.isInteger(snapshot.tick) || (snapshot.tick as number) < 0) {
        throw new GradingFailure(`the snapshot's "tick" should be the number of the latest broadcast (an integer, 0 before the first), but it was ${show(snapshot.tick)}`);
      }
      const expected = { 'snap-cpu': 42, 'snap-disk': { free: [1, 2, 3], unit: 'GB' }, 'snap-null': null };
      if (!same(snapshot.values, expected)) {
        throw new GradingFailure(
          `after snap-cpu was published as 1 then 42, snap-disk as ${show(expected['snap-disk'])} and snap-null as null, a client subscribing to ["snap-cpu","snap-disk","snap-null","snap-none"] ` +
            `expected a snapshot with "values": ${show(expected)} (the latest values, null being one, and nothing for snap-none, which has none), but got ${show(snapshot)}. ` +
            'A late joiner should see the current values at once, not wait for the next tick.',
        );
      }
    });

    it("a second subscribe's snapshot has the metrics it names; from then on ticks carry both", async () => {
      const agent = await connect('agent');
      await publish(agent, 'two-a', 'A');
      await publish(agent, 'two-b', 'B');
      const client = await connect('dashboard');
      await subscribe(client, ['two-a']);
      const second = await subscribe(client, ['two-b']);
      if (!same(second.values, { 'two-b': 'B' })) {
        throw new GradingFailure(`a client subscribed to two-a then sent {"type":"subscribe","metrics":["two-b"]}; expected a snapshot with "values": {"two-b":"B"}, but got ${show(second)}`);
      }
      const tick = await nextTick(client, 'a tick after subscribing to two-a and two-b');
      if (!same(tick.values, { 'two-a': 'A', 'two-b': 'B' })) {
        throw new GradingFailure(`a client subscribed to two-a and then two-b expected ticks with "values": {"two-a":"A","two-b":"B"}, but got ${show(tick)}`);
      }
    });
  });

  describe('ticks', () => {
    it('broadcasts a tick every 100 ms to a subscriber: consecutive numbers, the latest values', async () => {
      const agent = await connect('agent');
      await publish(agent, 'tick-load', 1);
      const client = await connect('dashboard');
      const snapshot = await subscribe(client, ['tick-load', 'tick-unpublished']);
      const ticks: Tick[] = [];
      for (let i = 0; i < 3; i++) ticks.push(await nextTick(client, `tick ${i + 1} of 3 (one every 100 ms)`));
      // The snapshot names the latest broadcast, so the next one a subscriber gets is one more.
      if (ticks[0].tick !== (snapshot.tick as number) + 1) {
        throw new GradingFailure(
          `${client.label} got a snapshot with "tick": ${show(snapshot.tick)} and then tick ${ticks[0].tick} as its first tick; expected tick ${show((snapshot.tick as number) + 1)}: ` +
            "a snapshot's tick is the number of the latest broadcast, and each broadcast adds one to it before it is sent (the first is tick 1)",
        );
      }
      expectConsecutive(client, ticks, 'each broadcast adds one to the tick number');
      const wrong = ticks.find((t) => !same(t.values, { 'tick-load': 1 }));
      if (wrong) {
        throw new GradingFailure(
          `a client subscribed to tick-load (published as 1) and tick-unpublished (never published) expected ticks with "values": {"tick-load":1}, but got ${show(wrong)}: ` +
            'a metric with no value yet is left out of a tick',
        );
      }
      await publish(agent, 'tick-load', 2);
      for (let i = 0; ; i++) {
        const tick = await nextTick(client, 'a tick with the new value of tick-load');
        if (same(tick.values, { 'tick-load': 2 })) break;
        if (i === 3) throw new GradingFailure(`after tick-load was published as 2, the next ticks should carry it, but 4 ticks later they still said ${show(tick.values)}`);
      }
    });

    it('sends one broadcast to everyone: a second client gets the same tick numbers as the first', async () => {
      const agent = await connect('agent');
      await publish(agent, 'one-timer', 'on');
      const first = await connect('first');
      await subscribe(first, ['one-timer']);
      await nextTick(first, 'a first tick');
      const second = await connect('second');
      await subscribe(second, ['one-timer']);
      const theirs: Tick[] = [];
      for (let i = 0; i < 3; i++) theirs.push(await nextTick(second, `tick ${i + 1} of 3 after subscribing`));
      expectConsecutive(second, theirs, 'each broadcast adds one to the tick number');
      const wanted = new Set(theirs.map((t) => t.tick));
      const mine: number[] = [];
      while (wanted.size > 0) {
        const tick = await nextTick(first, `the ticks numbered ${theirs.map((t) => t.tick).join(', ')}, which the second client got`).catch((err: unknown) => {
          throw new GradingFailure(
            `${sentence(err)} The second client got ticks ${theirs.map((t) => t.tick).join(', ')}; the first got ${mine.join(', ') || 'none'} meanwhile. ` +
              'One timer for the whole server sends each broadcast to every subscriber with the same number: a timer per client counts on its own.',
          );
        });
        mine.push(tick.tick);
        wanted.delete(tick.tick);
        if (tick.tick > Math.max(...theirs.map((t) => t.tick)) && wanted.size > 0) {
          throw new GradingFailure(
            `the second client got ticks ${theirs.map((t) => t.tick).join(', ')}, but the first client, subscribed all along, got ${mine.join(', ')}: ` +
              'every subscriber should get every broadcast with the same number. One timer for the whole server does that; a timer per client counts on its own.',
          );
        }
      }
    });

    it('sends ticks only to subscribers, each with only the metrics it subscribed to', async () => {
      const agent = await connect('agent');
      await publish(agent, 'only-x', 'X');
      await publish(agent, 'only-y', 'Y');
      const [xs, ys, none] = [await connect('x watcher'), await connect('y watcher'), await connect('a client subscribed to nothing')];
      await subscribe(xs, ['only-x']);
      await subscribe(ys, ['only-y']);
      for (let i = 0; i < 3; i++) {
        const tick = await nextTick(xs, `tick ${i + 1} of 3`);
        if (!same(tick.values, { 'only-x': 'X' })) throw new GradingFailure(`a client subscribed only to only-x expected "values": {"only-x":"X"}, but got ${show(tick)}`);
      }
      const y = await nextTick(ys, 'a tick');
      if (!same(y.values, { 'only-y': 'Y' })) throw new GradingFailure(`a client subscribed only to only-y expected "values": {"only-y":"Y"}, but got ${show(y)}`);
      const stray = ticksReceived(none);
      if (stray.length > 0) {
        throw new GradingFailure(`a client that subscribed to nothing got ${stray.length} tick(s) while the others got 3, e.g. ${show(stray[0])}: send ticks only to clients subscribed to at least one metric`);
      }
    });

    it('stops sending a metric once it answered "unsubscribed"', async () => {
      const agent = await connect('agent');
      await publish(agent, 'unsub-keep', 1);
      await publish(agent, 'unsub-drop', 2);
      const client = await connect('dashboard');
      await subscribe(client, ['unsub-keep', 'unsub-drop']);
      // unsub-never is not one of its metrics: the answer still lists it, as sent.
      await unsubscribe(client, ['unsub-drop', 'unsub-never']);
      // Ticks sent after the answer come after it on the same connection.
      for (let i = 0; i < 2; i++) {
        const tick = await nextTick(client, `tick ${i + 1} of 2 after unsubscribing from unsub-drop`);
        if (!same(tick.values, { 'unsub-keep': 1 })) {
          throw new GradingFailure(`after ${client.label} unsubscribed from unsub-drop and unsub-never (and got "unsubscribed"), it expected ticks with "values": {"unsub-keep":1}, but got ${show(tick)}`);
        }
      }
    });

    it('sends no more ticks to a client that unsubscribed from everything', async () => {
      const agent = await connect('agent');
      await publish(agent, 'unsub-all', 1);
      const [client, clock] = [await connect('dashboard'), await connect('another subscriber')];
      await subscribe(client, ['unsub-all']);
      await subscribe(clock, ['unsub-all']);
      await nextTick(client, 'a first tick');
      await unsubscribe(client, ['unsub-all']);
      for (let i = 0; i < 3; i++) await nextTick(clock, `tick ${i + 1} of 3 for another subscriber`);
      const extra: Tick[] = [];
      for (;;) {
        const m = await client.nextJson<{ type?: unknown; tick?: unknown }>({ within: 0 }).catch(() => undefined);
        if (!m) break;
        if (m.type === 'tick') extra.push(m as Tick);
      }
      if (extra.length > 0) {
        throw new GradingFailure(
          `${client.label} unsubscribed from its only metric and got "unsubscribed", but then got ${extra.length} more tick(s) while another client got 3, e.g. ${show(extra[0])}: a client subscribed to nothing gets no ticks`,
        );
      }
    });
  });

  describe('bad messages', () => {
    it('answers each invalid message with {"type":"error","message":…} and keeps the connection', async () => {
      const client = await connect('a client sending nonsense');
      await publish(client, 'bad-partial', 1);
      const bad: Array<[string | Buffer, string]> = [
        ['{"type":"subscribe", "metrics": [', 'text that is not JSON'],
        ['[1,2,3]', 'an array instead of an object'],
        ['42', 'a number instead of an object'],
        ['{"type":"dance"}', 'an unknown type'],
        ['{"metrics":["bad-a"]}', 'no type'],
        ['{"type":"publish","metric":"bad-a"}', 'a publish without a value'],
        ['{"type":"publish","metric":"","value":1}', 'a publish with an empty metric name'],
        ['{"type":"publish","metric":7,"value":1}', 'a publish whose metric is not a string'],
        ['{"type":"subscribe","metrics":"bad-a"}', 'metrics that are not an array'],
        ['{"type":"subscribe","metrics":[]}', 'an empty list of metrics'],
        ['{"type":"subscribe","metrics":["bad-partial",""]}', 'an empty metric name after a good one'],
        ['{"type":"unsubscribe","metrics":[7]}', 'a metric name that is not a string'],
        [Buffer.from('{"type":"subscribe","metrics":["bad-a"]}'), 'a binary message'],
      ];
      for (const [message, what] of bad) {
        await client.send(message);
        const shown = Buffer.isBuffer(message) ? `a binary message (${message.length} bytes)` : JSON.stringify(message);
        const m = await reply(client, `{"type":"error","message":…} after sending ${shown} (${what})`);
        if (m.type !== 'error' || typeof m.message !== 'string' || m.message === '') {
          throw new GradingFailure(`${client.label} sent ${shown} (${what}) and expected {"type":"error","message":"<what is wrong>"}, but got ${show(m)}`);
        }
      }
      const snapshot = await subscribe(client, ['bad-a']);
      if (!same(snapshot.values, {})) {
        throw new GradingFailure(`after only invalid publishes of bad-a, a subscribe to it expected a snapshot with "values": {}, but got ${show(snapshot)}: an invalid message changes nothing`);
      }
      const tick = await nextTick(client, 'a tick: the connection still works after the errors').catch((err: unknown) => {
        throw new GradingFailure(
          `${sentence(err)} It had subscribed to bad-a, which has no value, so its ticks carry "values": {}; ` +
            'a client subscribed to at least one metric gets every tick, even when none of its metrics has a value yet',
        );
      });
      if (!same(tick.values, {})) {
        throw new GradingFailure(
          `${client.label} sent {"type":"subscribe","metrics":["bad-partial",""]} (refused: an empty name) and then subscribed to bad-a alone, which has no value; ` +
            `it expected ticks with "values": {}, but got ${show(tick)}: ` +
            ('bad-partial' in tick.values
              ? 'a subscribe answered with an error changes nothing, not even for the good names before the bad one'
              : 'a metric with no value yet is left out of a tick'),
        );
      }
    });
  });

  describe('slow clients', () => {
    it(`keeps the others getting ticks while a client has stopped reading, and skips that client while more than ${SLOW_BYTES / 1024} KiB is queued for it`, { timeout: 10_000 }, async () => {
      // A client that does not read cannot answer pings either: start right after a heartbeat, so
      // that it has three heartbeat intervals before the heartbeat may drop it.
      await justAfterHeartbeat(HEARTBEAT_MS * 1.5);
      const agent = await connect('agent');
      // One reader connected before slow and one after: a broadcast loop that waits on slow's send
      // starves whichever comes after it, in either order of iteration.
      const fast = await connect('fast');
      const slow = await connect('slow', { maxMessageBytes: 16 * 1024 * 1024, maxBufferedBytes: 64 * 1024 * 1024 });
      const later = await connect('later');
      await publish(agent, 'slow-small', 1);
      await subscribe(fast, ['slow-small']);
      await subscribe(slow, ['slow-small', 'slow-big']);
      await subscribe(later, ['slow-small']);
      await nextTick(slow, 'a first tick, before it stops reading');
      slow.pauseReading();
      // From now on every tick that reaches slow queues 8 MiB, far more than the kernel's buffers take.
      await publish(agent, 'slow-big', BIG_VALUE, 3000);
      const seen = ticksReceived(fast);
      const before = seen.length ? seen[seen.length - 1].tick : 0;
      let last = before;
      // Three more ticks for fast: at least one of them came while slow had megabytes queued.
      while (last < before + 3) {
        const tick = await nextTick(fast, 'its next tick', 600).catch((err: unknown) => {
          throw new GradingFailure(
            `${sentence(err)} fast got ticks up to ${last}, then nothing for 0.6 s (six intervals), while slow had stopped reading with 8 MiB queued for it: ` +
              'one slow client held up the broadcast. Never wait for a send to finish (its callback, a drain) before serving the other clients or the next tick.',
          );
        });
        last = tick.tick;
      }
      while ((ticksReceived(later).at(-1)?.tick ?? -1) < last) {
        await nextTick(later, `tick ${last}, which fast got`, 600).catch((err: unknown) => {
          throw new GradingFailure(
            `${sentence(err)} While slow had stopped reading with 8 MiB queued for it, later (connected after slow) got ticks ${ticksNumbered(later)}, fast got up to ${last}: ` +
              'one slow client held up the broadcast. Never wait for a send to finish (its callback, a drain) before serving the other clients or the next tick.',
          );
        });
      }
      // Counting, not timing: a client that reads is never skipped, so it gets every broadcast.
      for (const reader of [fast, later]) {
        const got = ticksReceived(reader);
        const gap = got.findIndex((t, i) => i > 0 && t.tick !== got[i - 1].tick + 1);
        if (gap > 0) {
          throw new GradingFailure(
            `${reader.label}, which reads all it gets, got ticks ${ticksNumbered(reader)} while slow had stopped reading with 8 MiB queued for it: ` +
              `after tick ${got[gap - 1].tick} came ${got[gap].tick}. Every broadcast goes to every subscriber that is not skipped; one that waits for a send to slow ` +
              '(its callback, a drain) before the next client holds up the others.',
          );
        }
      }
      slow.resumeReading();
      // No more 8 MiB ticks from here on: what slow reads next is what was queued while it was stuck.
      await slow.sendJson({ type: 'unsubscribe', metrics: ['slow-big'] });
      let big: Tick | undefined;
      while (!big) {
        const tick = await nextTick(slow, 'the tick with the 8 MiB value of slow-big, once it reads again', 3000);
        // By its size: the ticks before the publish may also name slow-big (wrongly, as null).
        const value = tick.values['slow-big'];
        if (typeof value === 'string' && value.length === BIG_VALUE.length) big = tick;
      }
      const next = await nextTick(slow, `a tick after tick ${big.tick}, which carried 8 MiB`, 3000);
      if (next.tick === big.tick + 1) {
        throw new GradingFailure(
          `slow stopped reading and had tick ${big.tick} (8 MiB) queued for it; your server then sent it tick ${next.tick} as well, although far more than ${SLOW_BYTES / 1024} KiB was still waiting. ` +
            `Before each send look at ws.bufferedAmount, and skip a client with more than ${SLOW_BYTES} bytes queued (its next tick carries the latest values anyway).`,
        );
      }
    });
  });

  describe('heartbeat', () => {
    it(`pings a client subscribed to nothing and, after ${UNANSWERED} unanswered pings, drops it with ws.terminate() (no close frame)`, { timeout: 8000 }, async () => {
      // Subscribed to nothing: the heartbeat is for every client, not only those getting ticks.
      const silent = await connect('a client that never answers pings', { answerPings: false });
      let pings = 0;
      silent.ws.on('ping', () => pings++);
      const within = (UNANSWERED + 1) * HEARTBEAT_MS + 1500;
      const closed = await silent.expectClose({ within, what: 'to be dropped' }).catch(() => {
        throw new GradingFailure(
          pings === 0
            ? `a client subscribed to nothing was connected for ${within / 1000} s and got no ping: every ${HEARTBEAT_MS} ms, ping every client (ws.ping()), subscribed or not`
            : `a client answered none of the ${pings} ping(s) your server sent in ${within / 1000} s, but it was not dropped: at each heartbeat, terminate a client that has ${UNANSWERED} unanswered pings (ws.terminate())`,
        );
      });
      // Counting pings, not seconds: each beat either pings or drops, so a client is dropped at the beat after its 2nd ping.
      if (pings !== UNANSWERED) {
        throw new GradingFailure(
          `a client that never answers pings got ${pings} ping(s) before it was dropped; expected exactly ${UNANSWERED}: ` +
            `at each heartbeat, drop a client that has ${UNANSWERED} unanswered pings, otherwise ping it and count one more (a pong sets the count back to 0)`,
        );
      }
      if (closed.code !== 1006) {
        throw new GradingFailure(
          `a client that never answers pings was dropped with a close frame (code ${closed.code}${closed.reason ? `, reason ${show(closed.reason)}` : ''}); ` +
            'a peer that answers no ping will not answer a closing handshake either: drop it with ws.terminate(), which sends no close frame',
        );
      }
    });

    it(`keeps a client that answers pings: still getting ticks after 4 s, about ${HEARTBEAT_MS / TICK_MS} (one every ${TICK_MS} ms) for each ping`, { timeout: 8000 }, async () => {
      const agent = await connect('agent');
      await publish(agent, 'heartbeat-live', 'ok');
      const lively = await connect('a client that answers pings');
      let pings = 0;
      /** How many ticks it had received at each ping: the server's heartbeat is the clock for its ticks. */
      const ticksAtPing: number[] = [];
      lively.ws.on('ping', () => {
        pings++;
        ticksAtPing.push(ticksReceived(lively).length);
      });
      await subscribe(lively, ['heartbeat-live']);
      const start = Date.now();
      while (Date.now() - start < 4000) {
        await nextTick(lively, 'its next tick').catch((err: unknown) => {
          const age = ((Date.now() - start) / 1000).toFixed(1);
          throw new GradingFailure(
            `${sentence(err)} It had answered every one of the ${pings} ping(s) your server sent, yet ${age} s after subscribing it got no more ticks` +
              (lively.isClosed ? ' and the connection was closed: a pong must mark the client alive again (ws.on("pong", …)), or the heartbeat drops live clients.' : '.'),
          );
        });
      }
      if (pings < 3) throw new GradingFailure(`in 4 s a client got ${pings} ping(s); expected one every ${HEARTBEAT_MS} ms`);
      // A count against the server's own second timer, not the grader's clock, with wide bounds:
      // a loaded machine delays both timers alike.
      const perPing = (ticksAtPing[ticksAtPing.length - 1] - ticksAtPing[0]) / (ticksAtPing.length - 1);
      if (perPing < TICKS_PER_BEAT.min || perPing > TICKS_PER_BEAT.max) {
        throw new GradingFailure(
          `between its first and last ping (${ticksAtPing.length - 1} heartbeat interval(s)) a subscriber got ${perPing.toFixed(1)} ticks per interval; ` +
            `with a tick every ${TICK_MS} ms and a ping every ${HEARTBEAT_MS} ms it should be about ${HEARTBEAT_MS / TICK_MS} ` +
            `(anything from ${TICKS_PER_BEAT.min} to ${TICKS_PER_BEAT.max} passes): run the tick timer every ${TICK_MS} ms`,
        );
      }
    });
  });
});
