import { builder } from './builder.js';
import './scalars.js';
import './user.js';
import './session.js';
import './auth.js';
import './events.js';
import './account.js';
import './security-event.js';
import './session-created.js';

export type { Context } from './builder.js';

/** The whole API, as printed to schema.graphql by `npm run schema:print`. */
export const schema = builder.toSchema();
