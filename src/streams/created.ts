import type { Viewer } from '../auth/viewer.js';
import { op } from '../models/session.js';
import type { Services } from '../services.js';
import { fromRecord, SESSION_FIELDS, type SessionData } from '../sessions/session.js';

/**
 * New sign-ins for a stream opened with `created`: live ones come after the
 * replay of those since the stream authenticated (the stream's sequencer holds
 * them until then), and the session id removes the overlap; after that, every
 * one is a new session (the viewer's own was created before the stream started).
 *
 * Unlike revocations, the sign-in replay does not reach back a second for
 * clock skew: a device that opens its stream just after others signed in
 * would be told of sign-ins it did not wait for, and a missed notice costs
 * less than a missed revocation (the timeline has every sign-in).
 */
export class CreatedSessions {
  private backlog: SessionData[] | null = [];
  /** The viewer's own session and the replayed ones: a live notice of one of them is not a new sign-in. */
  private delivered = new Set<string>();

  constructor(
    private readonly viewerSessionId: string,
    private readonly push: (session: SessionData) => void,
  ) {
    this.delivered.add(viewerSessionId);
  }

  receive(session: SessionData): void {
    if (this.backlog) this.backlog.push(session);
    else if (!this.delivered.has(session.id)) this.push(session);
  }

  start(replayed: readonly SessionData[]): void {
    const backlog = this.backlog ?? [];
    this.backlog = null;
    for (const session of replayed) this.pushOnce(session);
    for (const session of backlog) this.pushOnce(session);
  }

  private pushOnce(session: SessionData): void {
    if (this.delivered.has(session.id)) return;
    this.delivered.add(session.id);
    this.push(session);
  }
}

/**
 * The user's sessions created since `since`, oldest first. From the Redis
 * session list: every sign-in writes it before it announces the new session,
 * so a sign-in announced before the stream listened is there, with no MongoDB
 * query per stream start. MongoDB answers only when Redis cannot. A sign-in
 * whose list write failed is missing from the replay (its notice is lost; the
 * timeline has it), as it is from the list until the next refill.
 */
export async function createdSince(services: Services, viewer: Pick<Viewer, 'userId' | 'sessionId'>, since: Date): Promise<SessionData[]> {
  const listed = await services.sessionList.known(viewer.userId).catch(() => null);
  if (listed) return listed.filter((s) => s.createdAt.getTime() >= since.getTime()).reverse();
  const records = await services.models.Session.find({ userId: viewer.userId, createdAt: op({ $gte: since }) }, SESSION_FIELDS)
    .sort({ createdAt: 1, _id: 1 })
    .lean();
  return records.map(fromRecord);
}
