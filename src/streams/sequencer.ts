import type { RevocationNotice } from './notice.js';

/**
 * How long a stream waits for a missing number before reading it from the
 * records. Messages of one user published on different instances can overtake
 * each other by a few milliseconds; only a number still missing after this is
 * a real gap (a lost message, a flushed Redis).
 */
export const GAP_WAIT_MS = 50;

export interface SequencerOptions {
  /** Hands one notice to the stream; true once the stream's own revocation was delivered (the stream ends). */
  emit(notice: RevocationNotice): boolean;
  /** The user's revocations numbered `from` to `to`, recorded or in flight (one read, shared by the user's streams). */
  readGap(from: number, to: number): Promise<RevocationNotice[]>;
  /** A gap read failed: delivery goes on without it. */
  gapFailed(error: unknown): void;
  /** Revocations stamped from this instant (epoch ms) on are this stream's, also when they arrive late. */
  windowStart: number;
}

/**
 * Puts one user's revocations in order for one stream, by their numbers.
 *
 * Until `start`, what arrives is held. `start(base, replayed)` says the stream
 * listens since the user's number was `base`: numbers above it arrive live and
 * are delivered in order; out-of-order ones wait in a buffer, and a number
 * still missing after GAP_WAIT_MS is read once (`readGap`). A number that is
 * neither recorded nor in flight was lost with Redis: it is passed, and still
 * delivered if its announcement turns up late. Numbers at or below `base` are
 * the replay (what was revoked between the stream's authentication and its
 * listening), and late announcements of them count if stamped inside the
 * window. Every number is delivered at most once.
 *
 * The stream's other events (a sign-in, a rename) go through `after`: each
 * takes its place behind the revocations that arrived before it, so that one
 * held back for a missing number does not let a later event overtake it.
 */
export class Sequencer {
  private pending: Array<RevocationNotice | (() => void)> | null = [];
  /** Other events waiting for the revocations numbered up to `upTo` (those in the buffer when each arrived), in arrival order. */
  private held: Array<{ upTo: number; run: () => void }> | null = null;
  private base = 0;
  private expected = 1;
  private readonly buffer = new Map<number, RevocationNotice>();
  // The next two are made when first needed: thousands of idle streams each hold a sequencer, and most never need them.
  /** Numbers delivered out of the live order (at or below `base`, or late after a gap read): each once. */
  private seen: Set<number> | null = null;
  /** Numbers a gap read did not find: a late announcement of one is still delivered. */
  private passed: Array<[number, number]> | null = null;
  private gapTimer: NodeJS.Timeout | undefined;
  private reading = false;
  private ended = false;

  constructor(private readonly options: SequencerOptions) {}

  receive(notice: RevocationNotice): void {
    if (this.pending) this.pending.push(notice);
    else this.handle(notice);
  }

  /** Runs `run` (another event's delivery) once every revocation that arrived before it was delivered. */
  after(run: () => void): void {
    if (this.ended) return;
    if (this.pending) this.pending.push(run);
    else if (this.buffer.size === 0 && !this.held) run();
    else (this.held ??= []).push({ upTo: Math.max(this.expected - 1, ...this.buffer.keys()), run });
  }

  /** `replayOthers` delivers the other events of the replay: after its revocations, before anything that came live. */
  start(base: number, replayed: readonly RevocationNotice[], replayOthers?: () => void): void {
    this.base = base;
    this.expected = base + 1;
    for (const notice of [...replayed].sort((a, b) => a.seq - b.seq)) if (notice.seq <= base) this.deliverOnce(notice);
    if (!this.ended) replayOthers?.();
    const pending = this.pending ?? [];
    this.pending = null;
    for (const step of pending) {
      if (typeof step === 'function') this.after(step);
      else this.handle(step);
    }
  }

  stop(): void {
    this.ended = true;
    this.held = null;
    clearTimeout(this.gapTimer);
  }

  /** Runs the held events whose revocations are all delivered (or passed). */
  private release(): void {
    while (this.held && !this.ended && this.held[0]!.upTo < this.expected) {
      const { run } = this.held.shift()!;
      if (this.held.length === 0) this.held = null;
      run();
    }
  }

  private handle(notice: RevocationNotice): void {
    if (this.ended) return;
    const { seq } = notice;
    if (seq <= this.base) {
      // Announced late, after this stream started: delivered if revoked after it authenticated.
      if (Date.parse(notice.revocation.revokedAt) >= this.options.windowStart) this.deliverOnce(notice);
      return;
    }
    if (seq < this.expected) {
      if (this.passed?.some(([a, b]) => a <= seq && seq <= b)) this.deliverOnce(notice);
      return;
    }
    if (!this.buffer.has(seq)) this.buffer.set(seq, notice);
    this.drain();
  }

  private deliverOnce(notice: RevocationNotice): void {
    this.seen ??= new Set();
    if (this.seen.has(notice.seq)) return;
    this.seen.add(notice.seq);
    this.deliver(notice);
  }

  private deliver(notice: RevocationNotice): void {
    if (this.ended) return;
    if (this.options.emit(notice)) this.stop();
  }

  private drain(): void {
    for (let next = this.buffer.get(this.expected); next && !this.ended; next = this.buffer.get(this.expected)) {
      this.buffer.delete(this.expected);
      this.expected += 1;
      this.deliver(next);
      this.release();
    }
    if (this.ended) return;
    if (this.buffer.size === 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    } else if (!this.gapTimer && !this.reading) {
      this.gapTimer = setTimeout(() => void this.fillGap(), GAP_WAIT_MS);
    }
  }

  private async fillGap(): Promise<void> {
    this.gapTimer = undefined;
    if (this.ended || this.buffer.size === 0) return;
    const upTo = Math.max(...this.buffer.keys());
    this.reading = true;
    let found: RevocationNotice[] = [];
    try {
      found = await this.options.readGap(this.expected, upTo);
    } catch (error) {
      // Delivered without them: a late announcement still gets through (`passed`).
      this.options.gapFailed(error);
    }
    this.reading = false;
    if (this.ended) return;
    for (const notice of found) {
      if (notice.seq >= this.expected && !this.buffer.has(notice.seq)) this.buffer.set(notice.seq, notice);
    }
    const seqs = [...this.buffer.keys()].filter((seq) => seq <= upTo).sort((a, b) => a - b);
    for (const seq of seqs) {
      if (this.ended) return;
      if (seq > this.expected) (this.passed ??= []).push([this.expected, seq - 1]);
      const notice = this.buffer.get(seq)!;
      this.buffer.delete(seq);
      this.expected = seq + 1;
      this.deliver(notice);
      this.release();
    }
    this.drain();
  }
}
