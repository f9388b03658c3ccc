import { Repeater, type RepeaterBuffer } from 'graphql-yoga';
import type { RevocationRecord } from '../models/revocation.js';
import { op } from '../models/session.js';
import type { SessionCreatedMessage, SessionRevokedMessage } from '../pubsub.js';
import type { Services } from '../services.js';
import type { StreamLease } from '../streams.js';
import type { Viewer } from '../auth/viewer.js';
import { createdSince, fromMessage } from './session-created.js';
import type { SessionRevokedEvent, SessionView } from './views.js';

/**
 * Revocations stamped up to this long before the subscriber authenticated are
 * replayed too: the stamp comes from whichever instance revoked, and instance
 * clocks differ a little. A replayed event is about a session of the same user.
 */
const CLOCK_SKEW_MS = 1000;

/**
 * How long a stream waits for a missing number before reading it from the
 * record. Messages of one user published on different instances can overtake
 * each other by a few milliseconds; only a number still missing after this is
 * a real gap (a lost message, a flushed Redis).
 */
export const GAP_WAIT_MS = 50;

// setTimeout's limit; a longer session simply is not cut by the timer.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The events one message means for the user's streams, built once per message
 * and shared by every stream of the instance (they all get the same parsed
 * object from src/pubsub.ts): each stream only adds its own event.
 */
const sharedEvents = new WeakMap<SessionRevokedMessage, SessionRevokedEvent[]>();

function othersEvents(message: SessionRevokedMessage): SessionRevokedEvent[] {
  let events = sharedEvents.get(message);
  if (!events) {
    const revokedAt = new Date(message.revokedAt);
    events = message.sessionIds.map((sessionId) => ({ sessionId, reason: message.reason, revokedAt, current: false }));
    sharedEvents.set(message, events);
  }
  return events;
}

/**
 * What one delivery step tells one stream: the events of one message, in the
 * message's order, except the viewer's own (if it is among them), which comes
 * last as `current: true` and ends the stream. Kept as the shared list and a
 * position, not as a list per stream: at a thousand streams of a thousand
 * events, copying the list per stream was much of the delivery time, and the
 * transports render the shared part once per instance (src/shared-chunks.ts).
 */
export interface Delivery {
  /** Every event of the message as `current: false`, shared by the instance's streams. */
  readonly events: readonly SessionRevokedEvent[];
  /** Where the viewer's own session is in `events`, or -1 when the message is only about others. */
  readonly own: number;
}

const ownEvents = new WeakMap<readonly SessionRevokedEvent[], Map<number, SessionRevokedEvent>>();

/** The viewer's own event of a delivery (`current: true`), shared by the streams of that session. */
export function ownEvent(delivery: Delivery): SessionRevokedEvent | undefined {
  if (delivery.own === -1) return undefined;
  const byIndex = ownEvents.get(delivery.events) ?? ownEvents.set(delivery.events, new Map()).get(delivery.events)!;
  let event = byIndex.get(delivery.own);
  if (!event) {
    event = { ...delivery.events[delivery.own]!, current: true };
    byIndex.set(delivery.own, event);
  }
  return event;
}

/** A delivery's events in the order the stream sends them. */
export function deliveryEvents(delivery: Delivery): SessionRevokedEvent[] {
  const own = ownEvent(delivery);
  if (!own) return [...delivery.events];
  return [...delivery.events.slice(0, delivery.own), ...delivery.events.slice(delivery.own + 1), own];
}

function deliveryFor(message: SessionRevokedMessage, viewerSessionId: string): Delivery {
  return { events: othersEvents(message), own: message.sessionIds.indexOf(viewerSessionId) };
}

/** Revocation records as the messages that announced them. */
function toMessages(
  userId: string,
  records: Array<Pick<RevocationRecord, 'seq' | 'sessionIds' | 'reason' | 'revokedAt'>>,
): SessionRevokedMessage[] {
  return records
    .map((r) => ({ userId, seq: r.seq, sessionIds: r.sessionIds, reason: r.reason, revokedAt: r.revokedAt.toISOString() }))
    .sort((a, b) => a.seq - b.seq);
}

/**
 * Records and the outbox's revocations in flight (claimed, record not written
 * yet), one message per number, in order.
 */
function merge(records: SessionRevokedMessage[], inFlight: SessionRevokedMessage[]): SessionRevokedMessage[] {
  const bySeq = new Map(records.map((m) => [m.seq, m]));
  for (const message of inFlight) if (!bySeq.has(message.seq)) bySeq.set(message.seq, message);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

const RECORD_FIELDS = { _id: 0, seq: 1, sessionIds: 1, reason: 1, revokedAt: 1 } as const;

/**
 * Gap reads in flight on this instance, shared: the streams of one user that
 * miss the same numbers read them once.
 */
const gapReads = new WeakMap<Services, Map<string, Promise<SessionRevokedMessage[]>>>();

function readRevocations(services: Services, userId: string, from: number, to: number): Promise<SessionRevokedMessage[]> {
  const reads = gapReads.get(services) ?? gapReads.set(services, new Map()).get(services)!;
  const key = `${userId}:${from}:${to}`;
  let read = reads.get(key);
  if (!read) {
    read = Promise.all([
      services.models.Revocation.find({ userId, seq: op({ $gte: from, $lte: to }) }, RECORD_FIELDS).lean(),
      services.ledger.inFlight(userId),
    ])
      .then(([records, inFlight]) => merge(toMessages(userId, records), inFlight.filter((r) => r.seq >= from && r.seq <= to)))
      .finally(() => reads.delete(key));
    reads.set(key, read);
  }
  return read;
}

/**
 * Puts one user's revocation messages in order for one stream, by their
 * numbers. Out-of-order messages wait in `buffer`; a number still missing
 * after GAP_WAIT_MS is read once, from the records and the outbox (the only
 * MongoDB read after the start). The outbox holds a revocation from its claim
 * on, so a number that is neither recorded nor in flight was lost with Redis.
 * Returns from `emit` true once the stream's own revocation was delivered.
 */
class Sequencer {
  private pending: SessionRevokedMessage[] | null = [];
  private base = 0;
  private expected = 1;
  private readonly buffer = new Map<number, SessionRevokedMessage>();
  // The next two are made when first needed: thousands of idle streams each hold a sequencer, and most never need them.
  /** Numbers delivered out of the live order (at or below `base`, or late after a gap read): each once. */
  private seen: Set<number> | null = null;
  /** Numbers a gap read did not find: a late announcement of one is still delivered. */
  private passed: Array<[number, number]> | null = null;
  private gapTimer: NodeJS.Timeout | undefined;
  private reading = false;
  private ended = false;

  constructor(
    private readonly emit: (message: SessionRevokedMessage) => boolean,
    private readonly services: Services,
    private readonly userId: string,
    private readonly windowStart: number,
  ) {}

  receive(message: SessionRevokedMessage): void {
    if (this.pending) this.pending.push(message);
    else this.handle(message);
  }

  /**
   * Listening since `base` was read: numbers above it arrive live. What is at
   * or below it and was revoked since the window start comes from the record
   * (`replayed`), or live if its announcement was still on its way.
   */
  start(base: number, replayed: SessionRevokedMessage[]): void {
    this.base = base;
    this.expected = base + 1;
    for (const message of replayed) if (message.seq <= base) this.deliverOnce(message);
    const pending = this.pending ?? [];
    this.pending = null;
    for (const message of pending) this.handle(message);
  }

  stop(): void {
    this.ended = true;
    clearTimeout(this.gapTimer);
  }

  private handle(message: SessionRevokedMessage): void {
    if (this.ended) return;
    if (message.seq <= this.base) {
      // Announced late, after this stream started: delivered if revoked after it authenticated.
      if (Date.parse(message.revokedAt) >= this.windowStart) this.deliverOnce(message);
      return;
    }
    if (message.seq < this.expected) {
      if (this.passed?.some(([a, b]) => a <= message.seq && message.seq <= b)) this.deliverOnce(message);
      return;
    }
    if (!this.buffer.has(message.seq)) this.buffer.set(message.seq, message);
    this.drain();
  }

  private deliverOnce(message: SessionRevokedMessage): void {
    this.seen ??= new Set();
    if (this.seen.has(message.seq)) return;
    this.seen.add(message.seq);
    this.deliver(message);
  }

  private deliver(message: SessionRevokedMessage): void {
    if (this.ended) return;
    if (this.emit(message)) this.stop();
  }

  private drain(): void {
    for (let next = this.buffer.get(this.expected); next && !this.ended; next = this.buffer.get(this.expected)) {
      this.buffer.delete(this.expected);
      this.expected += 1;
      this.deliver(next);
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
    let found: SessionRevokedMessage[] = [];
    try {
      found = await readRevocations(this.services, this.userId, this.expected, upTo);
    } catch (error) {
      // Delivered without them: a late announcement still gets through (`passed`).
      this.services.log.warn({ err: (error as Error).message }, 'sessionRevoked: gap read failed');
    }
    this.reading = false;
    if (this.ended) return;
    for (const message of found) {
      if (message.seq >= this.expected && !this.buffer.has(message.seq)) this.buffer.set(message.seq, message);
    }
    const seqs = [...this.buffer.keys()].filter((seq) => seq <= upTo).sort((a, b) => a - b);
    for (const seq of seqs) {
      if (this.ended) return;
      if (seq > this.expected) (this.passed ??= []).push([this.expected, seq - 1]);
      const message = this.buffer.get(seq)!;
      this.buffer.delete(seq);
      this.expected = seq + 1;
      this.deliver(message);
    }
    this.drain();
  }
}

/** An unbounded buffer: a logoutAll of thousands of sessions pushes thousands of events at once. */
class UnboundedBuffer<T> implements RepeaterBuffer<T> {
  private readonly queue: T[] = [];
  private head = 0;
  get empty(): boolean {
    return this.head >= this.queue.length;
  }
  get full(): boolean {
    return false;
  }
  add(value: T): void {
    this.queue.push(value);
  }
  remove(): T {
    const value = this.queue[this.head];
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return value as T;
  }
}

export interface StreamOptions {
  viewer: Viewer;
  /** When the credentials were checked: revocations from then on are delivered. */
  authenticatedAt: Date;
  /** Aborts when the client goes away (a transport may instead end the stream with `return()`). */
  signal?: AbortSignal;
  /** Also the user's new sign-ins (the REST stream's `session-created`), in the same stream. */
  created?: boolean;
}

/** A new session of the viewer's user, for a stream opened with `created`. */
export interface CreatedStep {
  readonly created: SessionView;
}

/** One step of a stream: a revocation message's delivery, or a new sign-in. */
export type StreamStep = Delivery | CreatedStep;

export const isDelivery = (step: StreamStep): step is Delivery => 'events' in step;

/**
 * The stream behind the `sessionRevoked` subscription and the REST events
 * route: every revocation of any of the viewer's user's sessions, in order,
 * ending after the one that revokes the viewer's own session. It yields one
 * `Delivery` per step (a logoutAll is one), which the transports write at
 * once; with `created`, also the user's new sign-ins (CreatedStep).
 *
 * Refused (RATE_LIMITED) before anything exists when the viewer's session or
 * user has as many streams open as the caps allow. Otherwise nothing more
 * happens until the transport starts reading: a `Repeater` runs its executor
 * on the first `next()`, so a stream the transport never starts holds no
 * subscription, timer or queue. The executor then:
 * 1. listens (resolves once Redis acknowledged the subscriptions);
 * 2. reads the user's current revocation number: everything above it will
 *    arrive live, in order (Sequencer);
 * 3. reads from MongoDB, once, the revocation records since `authenticatedAt`
 *    up to that number (the gap between authentication and listening), with
 *    the user's revocations still in flight (claimed, not yet recorded) from
 *    the Redis outbox; with `created`, the sessions created since then from
 *    the Redis session list (createdSince).
 * Live delivery reads MongoDB only on a real gap in the numbers.
 *
 * An idle stream holds little: one Repeater, the sequencer, its listeners
 * and a timer. Thousands of them are the common case (README, "Revocation at
 * scale"), so nothing here is kept per stream that can be shared or made
 * only when needed.
 *
 * One cleanup (`finally`) runs however the stream ends: its own revocation,
 * session expiry, the client leaving, `return()`, an error, or shutdown.
 * `ready` settles once the stream listens (or failed to), for transports that
 * want to answer a setup failure with an error status.
 */
export async function sessionRevokedBatches(
  services: Services,
  options: StreamOptions,
): Promise<{ events: Repeater<StreamStep>; ready: Promise<void> }> {
  const { viewer, authenticatedAt, signal, created = false } = options;
  const lease = await services.streams.acquire(viewer);
  const setup: Setup = { settle: () => {}, fail: () => {} };
  const ready = new Promise<void>((resolve, reject) => {
    setup.settle = resolve;
    setup.fail = reject;
  });
  ready.catch(() => {});
  // What the stream keeps of its viewer: not the account's profile, which the session check also read.
  const stream: StreamOf = {
    userId: viewer.userId,
    sessionId: viewer.sessionId,
    expiresAt: viewer.expiresAt.getTime(),
    authenticatedAt: authenticatedAt.getTime(),
    signal,
    created,
  };
  const events = new LeasedRepeater<StreamStep>((push, stop) => run(services, stream, lease, setup, push, stop), lease);
  // A stream abandoned before it started still gives its place back.
  signal?.addEventListener('abort', () => lease.release(), { once: true });
  return { events, ready };
}

/**
 * A Repeater that gives its stream's place back when it is returned, also
 * before it started (a started one gives it back in its cleanup too).
 */
class LeasedRepeater<T> extends Repeater<T> {
  constructor(
    executor: ConstructorParameters<typeof Repeater<T>>[0],
    private readonly lease: StreamLease,
  ) {
    super(executor, new UnboundedBuffer());
  }

  override return(value?: PromiseLike<unknown> | unknown): Promise<IteratorResult<T>> {
    this.lease.release();
    return super.return(value);
  }
}

/** One stream's own state, apart from its Repeater and sequencer. */
interface StreamOf {
  userId: string;
  sessionId: string;
  expiresAt: number;
  authenticatedAt: number;
  signal: AbortSignal | undefined;
  created: boolean;
}

/** Events one at a time, with the deliveries they come from (src/subscription-delivery.ts writes whole deliveries). */
export interface BatchedEvents extends AsyncIterableIterator<SessionRevokedEvent> {
  readonly batches: AsyncIterator<Delivery>;
}

/**
 * The same stream one event at a time, as the GraphQL subscription delivers
 * it: a view over the batches (a second Repeater would cost a push and a few
 * promise hops per event, which at a thousand streams of a thousand events
 * each was most of the delivery time). `return()` goes straight to the
 * batches' Repeater, which settles a pending `next()` at once.
 */
export async function sessionRevokedEvents(
  services: Services,
  viewer: Viewer,
  authenticatedAt: Date,
  signal: AbortSignal,
): Promise<BatchedEvents> {
  // Without `created`, every step is a Delivery.
  const { events } = (await sessionRevokedBatches(services, { viewer, authenticatedAt, signal })) as { events: Repeater<Delivery> };
  let batch: SessionRevokedEvent[] = [];
  let index = 0;
  const view = streamView<SessionRevokedEvent>(events, async () => {
    while (index >= batch.length) {
      const step = await events.next();
      if (step.done) return DONE;
      batch = deliveryEvents(step.value);
      index = 0;
    }
    return { done: false, value: batch[index++]! };
  });
  return Object.assign(view, { batches: events });
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * A subscription's view of a stream: `next` as given, until `return()` or
 * `throw()`, which end the stream's Repeater (settling a pending `next()` at
 * once); after them the view is done, whatever `next` still holds.
 */
function streamView<T>(events: Repeater<StreamStep>, next: () => Promise<IteratorResult<T>>): AsyncIterableIterator<T> {
  let ended = false;
  const view: AsyncIterableIterator<T> = {
    next: () => (ended ? Promise.resolve(DONE) : next()),
    async return() {
      ended = true;
      await events.return();
      return DONE;
    },
    async throw(error?: unknown) {
      ended = true;
      await events.return();
      throw error;
    },
    [Symbol.asyncIterator]: () => view,
  };
  return view;
}

/**
 * The `sessionCreated` subscription: the same stream, opened with `created`,
 * of which it yields the new sign-ins only. So it ends where the stream ends
 * (the viewer's own revocation, the session's expiry, the client leaving,
 * shutdown), has the same no-gap replay (createdSince), and counts against
 * the same stream caps.
 *
 * Unlike revocations, the sign-in replay does not reach back a second for
 * clock skew: a device that opens its stream just after others signed in
 * would be told of sign-ins it did not wait for, and a missed notice costs
 * less than a missed revocation (the timeline has every sign-in).
 */
export async function sessionCreatedEvents(
  services: Services,
  viewer: Viewer,
  authenticatedAt: Date,
  signal: AbortSignal,
): Promise<AsyncIterableIterator<SessionView>> {
  const { events } = await sessionRevokedBatches(services, { viewer, authenticatedAt, signal, created: true });
  return streamView<SessionView>(events, async () => {
    for (let step = await events.next(); !step.done; step = await events.next()) {
      if (!isDelivery(step.value)) return { done: false, value: step.value.created };
    }
    return DONE;
  });
}

/** The executor tells whoever waits on `ready`: listening, or why not. */
interface Setup {
  settle: () => void;
  fail: (error: unknown) => void;
}

/**
 * New sign-ins for a `created` stream: live ones wait behind the replay of
 * those since the stream authenticated, and the session id removes the
 * overlap; after that, every message is a new session (the viewer's own was
 * created before the stream started).
 */
class CreatedSessions {
  private backlog: SessionCreatedMessage[] | null = [];

  constructor(
    private readonly viewerSessionId: string,
    private readonly push: (step: StreamStep) => unknown,
  ) {}

  receive(message: SessionCreatedMessage): void {
    if (this.backlog) this.backlog.push(message);
    else if (message.session.id !== this.viewerSessionId) this.push({ created: fromMessage(message) });
  }

  start(replayed: SessionView[]): void {
    const delivered = new Set<string>([this.viewerSessionId]);
    const backlog = this.backlog ?? [];
    this.backlog = null;
    for (const session of [...replayed, ...backlog.map(fromMessage)]) {
      if (delivered.has(session.id)) continue;
      delivered.add(session.id);
      this.push({ created: session });
    }
  }
}

async function run(
  services: Services,
  stream: StreamOf,
  lease: StreamLease,
  setup: Setup,
  push: (step: StreamStep) => Promise<unknown>,
  stop: ((error?: unknown) => void) & Promise<unknown>,
): Promise<void> {
  const { userId, sessionId, signal } = stream;
  const end = (): void => stop();
  const windowStart = stream.authenticatedAt - CLOCK_SKEW_MS;
  const sequencer = new Sequencer(
    (message) => {
      const delivery = deliveryFor(message, sessionId);
      void push(delivery);
      const own = delivery.own !== -1;
      if (own) end();
      return own;
    },
    services,
    userId,
    windowStart,
  );
  // Undone in `finally`, whichever of them were done.
  let timer: NodeJS.Timeout | undefined;
  const off: { revoked?: () => void; created?: () => void } = {};
  try {
    lease.started(end);
    signal?.addEventListener('abort', end, { once: true });
    if (signal?.aborted) return;
    // An expired session's stream ends with it: its token is no longer good for anything.
    const remaining = stream.expiresAt - Date.now();
    if (remaining < MAX_TIMER_MS) timer = setTimeout(end, Math.max(0, remaining));
    const sessions = stream.created ? new CreatedSessions(sessionId, push) : null;
    // Both settle before anything goes on, so `finally` undoes whichever succeeded.
    const subscriptions = [
      services.pubsub.subscribe('sessionRevoked', userId, (message) => sequencer.receive(message)).then((undo) => (off.revoked = undo)),
      sessions && services.pubsub.subscribe('sessionCreated', userId, (message) => sessions.receive(message)).then((undo) => (off.created = undo)),
    ];
    for (const subscribed of await Promise.allSettled(subscriptions)) if (subscribed.status === 'rejected') throw subscribed.reason;
    const base = await services.ledger.currentSeq(userId);
    const [records, inFlight, createdSinceStart] = await Promise.all([
      services.models.Revocation.find({ userId, revokedAt: op({ $gte: new Date(windowStart) }) }, RECORD_FIELDS).lean(),
      services.ledger.inFlight(userId),
      sessions && createdSince(services, { userId, sessionId }, new Date(stream.authenticatedAt)),
    ]);
    const recent = inFlight.filter((r) => Date.parse(r.revokedAt) >= windowStart);
    sequencer.start(base, merge(toMessages(userId, records), recent));
    if (sessions && createdSinceStart) sessions.start(createdSinceStart);
    setup.settle();
    await stop;
  } catch (error) {
    setup.fail(error);
    throw error;
  } finally {
    // Also a stream ended before it listened: whoever waits on `ready` goes on.
    setup.settle();
    clearTimeout(timer);
    off.revoked?.();
    off.created?.();
    signal?.removeEventListener('abort', end);
    sequencer.stop();
    lease.release();
  }
}
