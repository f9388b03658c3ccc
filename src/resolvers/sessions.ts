import type { Viewer } from '../auth/viewer.js';
import type { Services } from '../services.js';
import { activeSessions } from '../sessions/active.js';
import type { SessionView } from '../sessions/session.js';

/** `sessions`: the caller's active sessions, newest first (src/sessions/active.ts). */
export function listSessions(services: Services, viewer: Viewer): Promise<SessionView[]> {
  return activeSessions(services, viewer.userId, viewer.sessionId);
}
