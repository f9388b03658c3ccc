import type { IncomingMessage } from 'node:http';
import type { RequestInfo } from './resolvers/views.js';
import { MAX_LENGTH, truncateCodePoints } from './validation.js';

/**
 * What the HTTP server hands each request besides the Request itself: Node's
 * adapter passes `req`; other runtimes (Bun) pass `clientIp`.
 */
export interface ServerContext {
  req?: IncomingMessage;
  clientIp?: string;
}

/** Reads `Authorization: Bearer <token>`; SSE requests may use `?token=` since EventSource cannot set headers. */
export function readBearerToken(request: Request, options: { allowQueryToken: boolean }): string | null {
  const header = request.headers.get('authorization');
  if (header !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1] ?? null;
  }
  if (options.allowQueryToken) {
    const token = new URL(request.url).searchParams.get('token');
    return token && token.length > 0 ? token : null;
  }
  return null;
}

export function wantsEventStream(request: Request): boolean {
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
export function readClientIp(request: Request, server: ServerContext, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return stripIpv4Mapped(forwarded).slice(0, 64);
  }
  const peer = server.req?.socket?.remoteAddress ?? server.clientIp;
  return peer ? stripIpv4Mapped(peer) : 'unknown';
}

export function readRequestInfo(request: Request, server: ServerContext, trustProxy: boolean): RequestInfo {
  return {
    ipAddress: readClientIp(request, server, trustProxy),
    userAgent: truncateCodePoints(request.headers.get('user-agent') ?? '', MAX_LENGTH.userAgent),
  };
}
