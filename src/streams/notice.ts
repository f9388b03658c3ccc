import type { SessionRevokedMessage } from '../pubsub.js';
import type { SessionRevokedEvent } from '../sessions/session.js';

/** A notice's events rendered to bytes, one after the other: event i is `bytes[offsets[i], offsets[i + 1])`. */
export interface RenderedEvents {
  readonly bytes: Buffer;
  readonly offsets: readonly number[];
}

/**
 * One revocation as this instance's streams of its user receive it, made once
 * per message (src/streams/feeds.ts) and shared by all of them: a logoutAll of
 * N sessions, each with an open stream, is N events for each of N streams, so
 * whatever can be derived once per message (the events, their text per
 * transport) is derived here once and kept, and each stream adds only its own
 * event (`current: true`).
 */
export class RevocationNotice {
  /** Every session of the revocation as `current: false`, in the revocation's order. */
  readonly events: readonly SessionRevokedEvent[];
  private readonly own = new Map<number, SessionRevokedEvent>();
  private readonly renders = new Map<string, Promise<RenderedEvents>>();
  private readonly ownRenders = new Map<string, Promise<string>>();

  /** When it was published, for one heard live; undefined for one read back (a replay, a gap). */
  readonly publishedAt: number | undefined;

  constructor(readonly revocation: SessionRevokedMessage) {
    this.publishedAt = revocation.publishedAt;
    const revokedAt = new Date(revocation.revokedAt);
    this.events = revocation.sessionIds.map((sessionId) => ({ sessionId, reason: revocation.reason, revokedAt, current: false }));
  }

  get seq(): number {
    return this.revocation.seq;
  }

  /** What this notice tells the streams of one session. */
  deliveryFor(sessionId: string): Delivery {
    return { notice: this, own: this.revocation.sessionIds.indexOf(sessionId) };
  }

  /** Event `index` as its own session's streams see it (`current: true`), made once. */
  ownEvent(index: number): SessionRevokedEvent {
    let event = this.own.get(index);
    if (!event) {
      event = { ...this.events[index]!, current: true };
      this.own.set(index, event);
    }
    return event;
  }

  /**
   * Every event rendered with `render`, once per `variant` (what else the text
   * depends on: the transport, a GraphQL document and its variables, the first
   * event id), into one buffer that streams send slices of.
   */
  rendered(variant: string, render: (event: SessionRevokedEvent, index: number) => string | Promise<string>): Promise<RenderedEvents> {
    let result = this.renders.get(variant);
    if (!result) {
      result = (async () => {
        const texts: string[] = [];
        for (const [index, event] of this.events.entries()) texts.push(await render(event, index));
        const offsets = [0];
        for (const text of texts) offsets.push(offsets.at(-1)! + Buffer.byteLength(text));
        return { bytes: Buffer.from(texts.join('')), offsets };
      })();
      this.renders.set(variant, result);
    }
    return result;
  }

  /** Event `index`'s own form rendered with `render`, once per `variant`. */
  renderedOwn(variant: string, index: number, render: (event: SessionRevokedEvent) => string | Promise<string>): Promise<string> {
    const key = `${variant}\u0000${index}`;
    let result = this.ownRenders.get(key);
    if (!result) {
      result = Promise.resolve(render(this.ownEvent(index)));
      this.ownRenders.set(key, result);
    }
    return result;
  }
}

/**
 * What one delivery step tells one stream: a notice's events in order, except
 * the stream's own (`own`, -1 when the notice is only about others), which
 * comes last as `current: true` and ends the stream.
 */
export interface Delivery {
  readonly notice: RevocationNotice;
  readonly own: number;
}

/** A delivery's events in the order the stream sends them (for a transport that sends them one by one). */
export function deliveryEvents({ notice, own }: Delivery): SessionRevokedEvent[] {
  if (own === -1) return [...notice.events];
  return [...notice.events.slice(0, own), ...notice.events.slice(own + 1), notice.ownEvent(own)];
}

/** The slices of `shared` a stream sends: all but event `skip` (-1: all of them); no copy. */
export function sliceAround(shared: RenderedEvents, skip: number): Buffer[] {
  if (skip === -1) return [shared.bytes];
  const { bytes, offsets } = shared;
  return [bytes.subarray(0, offsets[skip]), bytes.subarray(offsets[skip + 1])].filter((slice) => slice.length > 0);
}
