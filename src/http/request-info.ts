import type { RequestInfo } from '../auth/viewer.js';
import { MAX_LENGTH, truncateCodePoints } from '../auth/validation.js';
import type { RequestHead, ServerContext } from './handler.js';

/** Does the client ask for an event stream (SSE)? */
export function wantsEventStream(request: RequestHead): boolean {
  return (request.headers.get('accept') ?? '').includes('text/event-stream');
}

function stripIpv4Mapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The client's address: the socket's peer, unless the operator said a proxy
 * sits in front (TRUST_PROXY), in which case the left-most X-Forwarded-For entry.
 * Never trusted by default: any client can write that header.
 */
export function readClientIp(request: RequestHead, server: ServerContext, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return stripIpv4Mapped(forwarded).slice(0, 64);
  }
  const peer = server.req?.socket?.remoteAddress;
  return peer ? stripIpv4Mapped(peer) : 'unknown';
}

export function readRequestInfo(request: RequestHead, server: ServerContext, trustProxy: boolean): RequestInfo {
  return {
    ipAddress: readClientIp(request, server, trustProxy),
    userAgent: truncateCodePoints(request.headers.get('user-agent') ?? '', MAX_LENGTH.userAgent),
  };
}
