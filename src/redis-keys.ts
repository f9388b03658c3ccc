/**
 * Every Redis key the server writes, in one place.
 *
 * The keys of one user carry the user id as a hash tag (`{userId}`): Redis
 * Cluster places them in one slot, so every script and pipeline that touches
 * several of them (a revocation's claim, a session check, a stream's lease)
 * runs on one node. Keys shared by all users stand alone and are only ever
 * used one at a time.
 */
const user = (userId: string): string => `la:{${userId}}`;

export const redisKeys = {
  /** A session's state: `active:<userId>`, or `revoked` (a tombstone). */
  session: (userId: string, sessionId: string): string => `${user(userId)}:session:${sessionId}`,
  /** Set for a minute after a session's lastActivity was written (the write throttle). */
  activity: (userId: string, sessionId: string): string => `${user(userId)}:activity:${sessionId}`,
  /** The account's public profile, so that `me` needs no MongoDB. */
  profile: (userId: string): string => `${user(userId)}:profile`,
  /**
   * A random value that lives as long as this user's keys: a fill read from
   * MongoDB is written only if it is unchanged since the read began, so a
   * Redis that lost its data meanwhile (a restart) never takes a stale fill.
   */
  epoch: (userId: string): string => `${user(userId)}:epoch`,
  /** The user's sessions as the device list shows them (a hash). */
  sessions: (userId: string): string => `${user(userId)}:sessions`,
  /** The user's revocation counter. */
  revocationSeq: (userId: string): string => `${user(userId)}:revseq`,
  /** The user's revocations claimed and not yet recorded: claim id → the revocation. */
  revocationOutbox: (userId: string): string => `${user(userId)}:revoutbox`,
  /** Every user's outbox entries, `userId:claimId`, scored by when the sweepers may take them. */
  revocationDue: 'la:revoutbox-due',
  /** The sweeper marking one recorded revocation's sessions holds this. */
  markingLease: (userId: string, seq: number): string => `${user(userId)}:revmark:${seq}`,
  /**
   * When each of the user's sessions ends unless used (a sorted set, session id →
   * epoch ms: its idle deadline, never past its absolute end), and each one's
   * absolute end (a hash): src/sessions/deadlines.ts.
   */
  sessionDeadlines: (userId: string): string => `${user(userId)}:deadlines`,
  sessionEnds: (userId: string): string => `${user(userId)}:ends`,
  /** Every user's sessions, `userId:sessionId`, scored by their deadline: what the expiry sweep wakes for. */
  expiryDue: 'la:expiry-due',
  /** Leases of the open streams of one session, and of the user (sorted sets). */
  sessionStreams: (userId: string, sessionId: string): string => `${user(userId)}:streams:${sessionId}`,
  userStreams: (userId: string): string => `${user(userId)}:streams`,
  /** The user's webhook event counter (src/webhooks/outbox.ts): the order of its events. */
  webhookSeq: (userId: string): string => `${user(userId)}:webhook-seq`,
  /** The instance delivering the user's webhook events to one endpoint holds this (src/webhooks/delivery.ts). */
  webhookLease: (userId: string, endpointId: string): string => `${user(userId)}:webhook-lease:${endpointId}`,
  /** rate-limiter-flexible's key prefix for one counter. */
  rateLimit: (name: string): string => `la:rl:${name}`,
} as const;
