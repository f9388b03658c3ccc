/**
 * Lua scripts that several Redis stores share: a due set whose members are
 * leased when taken (the revocation outbox, src/revocation/ledger.ts; session
 * deadlines, src/sessions/deadlines.ts), and a lease held by one holder
 * (src/revocation/ledger.ts, src/webhooks/delivery.ts). Keys come as KEYS[], so
 * they run on a Redis Cluster too (src/redis-keys.ts).
 */

/** KEYS: the due set. ARGV: now, lease ms, limit. Returns the members taken, each leased until now + lease. */
export const TAKE_DUE_SCRIPT = `
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, m in ipairs(members) do
  redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), m)
end
return members
`;

/** KEYS: the lease. ARGV: holder, ms. Extends it only for its holder. */
export const RENEW_LEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** KEYS: the lease. ARGV: holder. Ends it only for its holder. */
export const RELEASE_LEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
