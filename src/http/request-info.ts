import type { RequestInfo } from '../auth/viewer.js';
import { MAX_LENGTH, truncateCodePoints } from '../auth/validation.js';
import type { RequestHead, ServerContext } from './handler.js';
import { parseIpAddress } from './ip-address.js';

/**
 * Does the client ask for an event stream (SSE)? The one answer for every
 * place that chooses between a stream and a single answer: the GraphQL
 * subscription rule (src/graphql/subscription-transport.ts), the Node
 * listener's stream path (src/server.ts) and the SSE writer
 * (src/streams/graphql.ts). Were they to disagree, a request could
 * start a stream that no transport then writes.
 */
export function wantsEventStream(accept: string | null | undefined): boolean {
  return accept !== null && accept !== undefined && accept.toLowerCase().includes('text/event-stream');
}

/**
 * The client's address. With no proxy trusted (TRUST_PROXY unset), the
 * socket's peer: any client can write X-Forwarded-For. Behind `proxyHops`
 * proxies, each appends the address it was reached from, so the entry
 * `proxyHops` from the right is the address the outermost of them saw;
 * entries left of it are whatever the client wrote (Express's `trust proxy`
 * with a hop count). Only a valid IP address is taken, else the socket's.
 */
export function readClientIp(request: RequestHead, server: ServerContext, proxyHops: number): string {
  const peer = server.req?.socket?.remoteAddress;
  const socketAddress = (peer ? parseIpAddress(peer) : null) ?? 'unknown';
  const forwarded = proxyHops > 0 ? request.headers.get('x-forwarded-for') : null;
  if (!forwarded) return socketAddress;
  const entries = forwarded.split(',');
  // Fewer entries than proxies: the left-most is the farthest address known.
  const entry = entries[Math.max(0, entries.length - proxyHops)] ?? '';
  return parseIpAddress(entry.trim()) ?? socketAddress;
}

export function readRequestInfo(request: RequestHead, server: ServerContext, proxyHops: number): RequestInfo {
  return {
    ipAddress: readClientIp(request, server, proxyHops),
    userAgent: truncateCodePoints(request.headers.get('user-agent') ?? '', MAX_LENGTH.userAgent),
  };
}
