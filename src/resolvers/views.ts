import type { UserView } from '../auth/viewer.js';
import type { SessionView } from '../sessions/session.js';

// The user's shape lives with the viewer, which carries it (src/auth/viewer.ts); the session's in src/sessions/session.ts.
export { toUserView, type UserView } from '../auth/viewer.js';

/** What `register` and `login` answer (GraphQL `AuthPayload`, REST's body). */
export interface AuthPayload {
  token: string;
  user: UserView;
  session: SessionView;
}
