import { type AppError, unauthenticated } from '../errors.js';
import { ANONYMOUS, authenticate, type Auth } from './authenticate.js';
import type { Viewer } from './viewer.js';
import type { RequestHead } from '../http/handler.js';
import { wantsEventStream } from '../http/request-info.js';
import type { Services } from '../services.js';

/**
 * "Who is calling", decided once per request for both APIs: this module reads
 * the credentials, `authenticate` checks them, and each transport states once
 * what needs a viewer (GraphQL: the `viewer`/`subscriber` auth scopes in
 * src/schema/builder.ts; REST: the `authenticated` wrapper in rest-compat/routes.ts).
 */

/** What may authenticate with this request: a token from a URL only ever opens a stream. */
export type Transport = 'request' | 'stream';

export interface RequestAuth {
  /** For queries, mutations and REST calls: `Authorization: Bearer` only. */
  request: Auth;
  /** For streams (the subscription, GET /api/auth/events): the header, or `?token=` (EventSource cannot set headers). */
  stream: Auth;
  /** Taken before the session check: a stream replays revocations from this instant, so none falls in between. */
  authenticatedAt: Date;
}

interface Credentials {
  token: string;
  from: 'header' | 'url';
}

/**
 * `Authorization: Bearer <token>`, else `?token=`. A malformed header is no
 * credentials at all: the URL is not consulted behind a header the client did send.
 */
function readCredentials(request: RequestHead): Credentials | null {
  const header = request.headers.get('authorization');
  if (header !== null) {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    return token ? { token, from: 'header' } : null;
  }
  const token = new URL(request.url).searchParams.get('token');
  return token ? { token, from: 'url' } : null;
}

/**
 * `activity`: whether this request is a use of its session (it moves the idle
 * deadline). A request for an event stream is not, whoever asks: a device left
 * open on an events page still idles out (docs/contract.md).
 */
export async function authenticateRequest(
  services: Services,
  request: RequestHead,
  activity = !wantsEventStream(request.headers.get('accept')),
): Promise<RequestAuth> {
  const authenticatedAt = new Date();
  const credentials = readCredentials(request);
  const auth = await authenticate(services, credentials?.token ?? null, activity);
  return { request: credentials?.from === 'header' ? auth : ANONYMOUS, stream: auth, authenticatedAt };
}

/** Why there is no caller for this transport: SERVICE_UNAVAILABLE when the session could not be checked, else UNAUTHENTICATED. */
export function authFailure(auth: RequestAuth, transport: Transport): AppError {
  const chosen = auth[transport];
  return (chosen.viewer === null ? chosen.error : null) ?? unauthenticated();
}

/** "Needs a viewer": the caller for this transport, or its authFailure thrown. */
export function requireViewer(auth: RequestAuth, transport: Transport): Viewer {
  const viewer = auth[transport].viewer;
  if (viewer) return viewer;
  throw authFailure(auth, transport);
}
