import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RevocationNotice } from './notice.js';
import { GAP_WAIT_MS, Sequencer } from './sequencer.js';

const USER = 'a'.repeat(24);
const OWN = 'own-session';
const T0 = Date.parse('2026-12-01T12:00:00Z');

/** A revocation numbered `seq`, of `sessionIds` (another session unless said), stamped `at`. */
const notice = (seq: number, sessionIds = [`s${seq}`], at = T0 + seq): RevocationNotice =>
  new RevocationNotice({ userId: USER, seq, sessionIds, reason: 'REVOKED', revokedAt: new Date(at).toISOString() });

/** A sequencer over fake timers: what it emitted, and what its gap reads asked for. */
function harness(options: { records?: RevocationNotice[]; failReads?: boolean } = {}) {
  const emitted: number[] = [];
  const reads: Array<[number, number]> = [];
  const failures: unknown[] = [];
  const sequencer = new Sequencer({
    emit: (n) => {
      emitted.push(n.seq);
      return n.revocation.sessionIds.includes(OWN);
    },
    readGap: async (from, to) => {
      reads.push([from, to]);
      if (options.failReads) throw new Error('database down');
      return (options.records ?? []).filter((n) => n.seq >= from && n.seq <= to);
    },
    gapFailed: (error) => failures.push(error),
    windowStart: T0,
  });
  return { sequencer, emitted, reads, failures };
}

describe('Sequencer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('holds what arrives before start, then delivers the replay and the live numbers in order', () => {
    const { sequencer, emitted } = harness();
    sequencer.receive(notice(12));
    sequencer.receive(notice(11));
    expect(emitted).toEqual([]);
    sequencer.start(10, [notice(9), notice(8)]);
    expect(emitted).toEqual([8, 9, 11, 12]);
    sequencer.receive(notice(13));
    expect(emitted).toEqual([8, 9, 11, 12, 13]);
  });

  it('waits GAP_WAIT_MS for a number overtaken by a later one, without reading anything if it comes', async () => {
    const { sequencer, emitted, reads } = harness();
    sequencer.start(0, []);
    sequencer.receive(notice(2));
    expect(emitted).toEqual([]);
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS - 1);
    sequencer.receive(notice(1));
    expect(emitted).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS * 2);
    expect(reads).toEqual([]);
  });

  it('reads a number still missing after GAP_WAIT_MS once, and delivers it in its place', async () => {
    const { sequencer, emitted, reads } = harness({ records: [notice(1)] });
    sequencer.start(0, []);
    sequencer.receive(notice(3));
    sequencer.receive(notice(2));
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS);
    expect(reads).toEqual([[1, 3]]);
    expect(emitted).toEqual([1, 2, 3]);
  });

  it('passes a number no one has (lost with Redis), and still delivers it if it turns up late', async () => {
    const { sequencer, emitted } = harness({ records: [] });
    sequencer.start(0, []);
    sequencer.receive(notice(2));
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS);
    expect(emitted).toEqual([2]);
    sequencer.receive(notice(1));
    expect(emitted).toEqual([2, 1]);
    // ...once.
    sequencer.receive(notice(1));
    expect(emitted).toEqual([2, 1]);
  });

  it('goes on without a gap read that failed, and reports it', async () => {
    const { sequencer, emitted, failures } = harness({ failReads: true });
    sequencer.start(0, []);
    sequencer.receive(notice(2));
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS);
    expect(emitted).toEqual([2]);
    expect(failures).toHaveLength(1);
  });

  it('delivers each number once, however often it is announced or replayed', () => {
    const { sequencer, emitted } = harness();
    sequencer.start(5, [notice(4), notice(5)]);
    sequencer.receive(notice(5));
    sequencer.receive(notice(6));
    sequencer.receive(notice(6));
    sequencer.receive(notice(4));
    expect(emitted).toEqual([4, 5, 6]);
  });

  it('delivers a late announcement at or below its start only if it was revoked inside its window', () => {
    const { sequencer, emitted } = harness();
    sequencer.start(10, []);
    sequencer.receive(notice(8, ['before'], T0 - 1));
    sequencer.receive(notice(9, ['after'], T0 + 1));
    expect(emitted).toEqual([9]);
  });

  it('stops after the stream\'s own revocation: nothing more is delivered or read', async () => {
    const { sequencer, emitted, reads } = harness();
    sequencer.start(0, []);
    sequencer.receive(notice(1, ['other', OWN]));
    sequencer.receive(notice(3));
    sequencer.receive(notice(2));
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS * 4);
    expect(emitted).toEqual([1]);
    expect(reads).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('puts other events (a sign-in, a rename) behind the revocations that arrived before them, also across a gap', async () => {
    const { sequencer, emitted } = harness({ records: [notice(2)] });
    const other = (name: string) => () => emitted.push(name as unknown as number);
    // Before start: held, and after the replay.
    sequencer.receive(notice(1));
    sequencer.after(other('a'));
    sequencer.start(0, [], other('replayed'));
    expect(emitted).toEqual(['replayed', 1, 'a']);
    // 3 overtook 2: what came after 3 waits for it, and what came before 3 does not move.
    sequencer.receive(notice(3));
    sequencer.after(other('b'));
    sequencer.receive(notice(4));
    sequencer.after(other('c'));
    expect(emitted).toEqual(['replayed', 1, 'a']);
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS);
    expect(emitted).toEqual(['replayed', 1, 'a', 2, 3, 'b', 4, 'c']);
    // Nothing held: at once.
    sequencer.after(other('d'));
    expect(emitted.at(-1)).toBe('d');
  });

  it('drops the other events still held when its own revocation ends the stream', () => {
    const { sequencer, emitted } = harness();
    sequencer.start(0, []);
    sequencer.receive(notice(2, [OWN]));
    sequencer.after(() => emitted.push(-1));
    sequencer.receive(notice(1));
    expect(emitted).toEqual([1, 2]);
  });
});
