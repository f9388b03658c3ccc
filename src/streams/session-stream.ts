import { Repeater, type RepeaterBuffer } from 'graphql-yoga';
import type { Viewer } from '../auth/viewer.js';
import type { StreamTransport } from '../metrics.js';
import type { Services } from '../services.js';
import type { SessionData } from '../sessions/session.js';
import { CreatedSessions, createdSince } from './created.js';
import type { StreamLease } from './leases.js';
import type { Delivery, RevocationNotice } from './notice.js';
import { Sequencer } from './sequencer.js';

/**
 * Revocations stamped up to this long before the subscriber authenticated are
 * replayed too: the stamp comes from whichever instance revoked, and instance
 * clocks differ a little. A replayed event is about a session of the same user.
 */
const CLOCK_SKEW_MS = 1000;

// setTimeout's limit; a longer session simply is not cut by the timer.
const MAX_TIMER_MS = 2_147_483_647;

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
  /** Which API carries it (the open-streams metric counts by transport). */
  transport: StreamTransport;
  /** Also the user's new sign-ins (the REST stream's `session-created`, the `sessionCreated` subscription), in the same stream. */
  created?: boolean;
  /** Also the user's renamed sessions (the REST stream's `session-updated`, the `sessionUpdated` subscription), in the same stream. */
  updated?: boolean;
}

/** A new session of the viewer's user, for a stream opened with `created`. */
export class CreatedStep {
  constructor(readonly session: SessionData) {}
}

/** A renamed session of the viewer's user (its new name), for a stream opened with `updated`. */
export class UpdatedStep {
  constructor(readonly session: SessionData) {}
}

/** One step of a stream: a revocation's delivery, a new sign-in, or a rename. */
export type StreamStep = Delivery | CreatedStep | UpdatedStep;

/** A step that delivers a revocation (not a sign-in or a rename): what the revocation paths render and time. */
export const isDelivery = (step: StreamStep): step is Delivery => !(step instanceof CreatedStep || step instanceof UpdatedStep);

/**
 * One session's event stream, behind the `sessionRevoked` and `sessionCreated`
 * subscriptions and the REST events route: every revocation of any of the
 * user's sessions, in order, ending after the one that revokes the viewer's
 * own; with `created`, also the user's new sign-ins, and with `updated`, the
 * renames, each in the order they came in (src/streams/sequencer.ts `after`). One `Delivery` per
 * revocation (a logoutAll is one), which the transports write at once.
 *
 * A Repeater that gives its stream's place back when it is returned, also
 * before it started (a started one gives it back in its cleanup too).
 */
export class SessionStream extends Repeater<StreamStep> {
  /** The first step, asked for by `start`: what `next()` returns first. */
  private first: Promise<IteratorResult<StreamStep>> | null = null;
  private started = false;

  constructor(
    executor: ConstructorParameters<typeof Repeater<StreamStep>>[0],
    private readonly lease: StreamLease,
  ) {
    super(executor, new UnboundedBuffer());
  }

  override return(value?: PromiseLike<unknown> | unknown): Promise<IteratorResult<StreamStep>> {
    this.lease.release();
    return super.return(value);
  }

  /** Runs the executor now (a Repeater runs it on the first `next()`); the step it is asked for is the first `next()`'s. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.first = super.next();
    this.first.catch(() => {});
  }

  override next(value?: unknown): Promise<IteratorResult<StreamStep>> {
    this.started = true;
    const first = this.first;
    if (first === null) return super.next(value);
    this.first = null;
    return first;
  }
}

/**
 * Opens a session's stream (see SessionStream).
 *
 * Refused (RATE_LIMITED) before anything exists when the viewer's session or
 * user has as many streams open as the caps allow. Otherwise nothing more
 * happens until the transport starts reading: a `Repeater` runs its executor
 * on the first `next()`, so a stream the transport never starts holds no
 * subscription, timer or queue. The executor then:
 * 1. listens (src/streams/feeds.ts; resolves once Redis acknowledged);
 * 2. reads the user's current revocation number: everything above it will
 *    arrive live, in order (src/streams/sequencer.ts);
 * 3. reads, once, the revocations since `authenticatedAt` up to that number
 *    (the gap between authentication and listening): the records in MongoDB,
 *    and the outbox for those not recorded yet; with `created`, the sessions
 *    created since then, from the Redis session list (src/streams/created.ts).
 * Live delivery reads MongoDB only on a real gap in the numbers.
 *
 * An idle stream holds little: its Repeater, its sequencer, its place in the
 * feed and a timer. Thousands of them are the common case, so nothing is kept
 * per stream that can be shared or made only when needed.
 *
 * One cleanup (`finally`) runs however the stream ends: its own revocation,
 * session expiry, the client leaving, `return()`, an error, or shutdown.
 * `ready` settles once the stream listens (or failed to), for transports that
 * want to answer a setup failure with an error status.
 */
export async function openSessionStream(services: Services, options: StreamOptions): Promise<{ stream: SessionStream; ready: Promise<void> }> {
  const { viewer, authenticatedAt, signal, created = false, updated = false } = options;
  const lease = await services.streams.acquire(viewer, options.transport);
  const setup: Setup = { settle: () => {}, fail: () => {} };
  const ready = new Promise<void>((resolve, reject) => {
    setup.settle = resolve;
    setup.fail = reject;
  });
  ready.catch(() => {});
  // What the stream keeps of its viewer: not the account's profile, which the session check also read.
  const of: StreamOf = {
    userId: viewer.userId,
    sessionId: viewer.sessionId,
    expiresAt: viewer.expiresAt.getTime(),
    authenticatedAt: authenticatedAt.getTime(),
    signal,
    created,
    updated,
  };
  const stream = new SessionStream((push, stop) => run(services, of, lease, setup, push, stop), lease);
  // A stream abandoned before it started still gives its place back.
  signal?.addEventListener('abort', () => lease.release(), { once: true });
  return { stream, ready };
}

/**
 * Opens the stream (openSessionStream) and starts it now, resolving once it
 * listens: a failure to start (Redis or MongoDB unreachable, or the replay's
 * read timing out) is thrown here, so that every transport answers it as an
 * error (SERVICE_UNAVAILABLE) rather than as a stream that ends at once.
 */
export async function startSessionStream(services: Services, options: StreamOptions): Promise<SessionStream> {
  const { stream, ready } = await openSessionStream(services, options);
  stream.start();
  try {
    await ready;
  } catch (error) {
    await stream.return();
    throw error;
  }
  return stream;
}

/** One stream's own state, apart from its Repeater and sequencer. */
interface StreamOf {
  userId: string;
  sessionId: string;
  expiresAt: number;
  authenticatedAt: number;
  signal: AbortSignal | undefined;
  created: boolean;
  updated: boolean;
}

/** The executor tells whoever waits on `ready`: listening, or why not. */
interface Setup {
  settle: () => void;
  fail: (error: unknown) => void;
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
  const { feeds, ledger, log } = services;
  const end = (): void => stop();
  const windowStart = stream.authenticatedAt - CLOCK_SKEW_MS;
  const sequencer = new Sequencer({
    emit(notice: RevocationNotice) {
      const delivery = notice.deliveryFor(sessionId);
      void push(delivery);
      const own = delivery.own !== -1;
      if (own) end();
      return own;
    },
    readGap: (from, to) => feeds.readGap(userId, from, to),
    gapFailed: (error) => log.warn({ err: (error as Error).message }, 'stream: gap read failed'),
    windowStart,
  });
  const sessions = stream.created ? new CreatedSessions(sessionId, (session) => void push(new CreatedStep(session))) : null;
  // Sign-ins and renames wait behind the revocations that came before them (src/streams/sequencer.ts `after`).
  // Renames since the stream authenticated and before it listened are not replayed: a client reads the list once listening.
  const renamed = stream.updated ? (session: SessionData) => sequencer.after(() => void push(new UpdatedStep(session))) : null;
  // Undone in `finally`, whichever of them were done.
  let timer: NodeJS.Timeout | undefined;
  let leave: (() => void) | undefined;
  try {
    lease.started(end);
    signal?.addEventListener('abort', end, { once: true });
    if (signal?.aborted) return;
    // A stream ends with its token, a little after: a session ending then is announced first (EXPIRED, by the
    // expiry sweep), and a client that refreshes its access token reconnects with the new one.
    const remaining = stream.expiresAt - Date.now() + 2 * services.config.sessionExpirySweepMs + 1000;
    if (remaining < MAX_TIMER_MS) timer = setTimeout(end, Math.max(0, remaining));
    leave = await feeds.join(userId, {
      revoked: (notice) => sequencer.receive(notice),
      // Ends with the error once what was pushed is read: the client reconnects.
      lost: (error) => stop(error),
      ...(sessions ? { created: (session: SessionData) => sequencer.after(() => sessions.receive(session)) } : {}),
      ...(renamed ? { updated: renamed } : {}),
    });
    const base = await ledger.currentSeq(userId);
    const [replayed, createdSinceStart] = await Promise.all([
      feeds.replay(userId, new Date(windowStart)),
      sessions && createdSince(services, { userId, sessionId }, new Date(stream.authenticatedAt)),
    ]);
    sequencer.start(base, replayed, () => sessions?.start(createdSinceStart ?? []));
    setup.settle();
    await stop;
  } catch (error) {
    setup.fail(error);
    throw error;
  } finally {
    // Also a stream ended before it listened: whoever waits on `ready` goes on.
    setup.settle();
    clearTimeout(timer);
    leave?.();
    signal?.removeEventListener('abort', end);
    sequencer.stop();
    lease.release();
  }
}
