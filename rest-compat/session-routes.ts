import { MAX_LENGTH } from '../src/auth/validation.js';
import { json } from '../src/http/responses.js';
import { revokeSession } from '../src/revocation/sign-out.js';
import { renameSession } from '../src/sessions/rename.js';
import { readJsonObject } from './http.js';
import { AUTH_ERRORS, bearer, body, BODY_ERRORS, CURRENT_PASSWORD, errorDoc, ok, REAUTHENTICATION, STEP_UP, SUCCESS } from './openapi.js';
import { authenticated, requestInfo, type Route } from './route-kit.js';
import { ref, toJson } from './shapes.js';

/** Naming a device, and "This wasn't me" (issue 20 §4, §5): routes on one session of the caller, beside revoking it (rest-compat/routes.ts). */
export const sessionRoutes: readonly Route[] = [
  {
    method: 'PATCH',
    path: '/api/auth/sessions/:id',
    doc: {
    operationId: 'renameSession',
    summary: 'Rename one of the caller\'s own sessions',
    description:
      `deviceInfo: 1-${MAX_LENGTH.deviceInfo} characters after trimming, as at sign-in. ` +
      'Another user\'s session, or one no longer active, is `NOT_FOUND`. Listeners get `session-updated` with `{sessionId, deviceInfo}`.',
    security: bearer,
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
    requestBody: body(
      {
        type: 'object',
        required: ['deviceInfo'],
        properties: { deviceInfo: { type: 'string', minLength: 1, maxLength: MAX_LENGTH.deviceInfo } },
      },
      true,
    ),
    responses: {
      '200': ok('The session with its new name.', {
        type: 'object',
        required: ['session'],
        additionalProperties: false,
        properties: { session: ref('Session') },
      }),
      ...BODY_ERRORS,
      '404': errorDoc(404, 'Not an active session of the caller, whoever owns it (`NOT_FOUND`).'),
      ...AUTH_ERRORS,
    },
  },
    handle: authenticated('request', async (c, viewer) => {
      const body = await readJsonObject(c.request);
      const session = await renameSession(c.services, viewer, c.params.id, body.deviceInfo);
      return json(200, { session: toJson('Session', session) });
    }),
  },
  {
    method: 'POST',
    path: '/api/auth/sessions/:id/report',
    doc: {
    operationId: 'reportSession',
    summary: '"This wasn\'t me": revoke one of the caller\'s other sessions and record it as reported',
    description:
      'As `DELETE /api/auth/sessions/{id}` (listeners get `session-revoked` with reason `REVOKED`), but the security timeline ' +
      'records `SESSION_REPORTED`: the user said the session was not theirs. Changing the password should follow. ' + STEP_UP,
    security: bearer,
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
    requestBody: body({ type: 'object', properties: { currentPassword: CURRENT_PASSWORD } }, false),
    responses: {
      '200': ok('Revoked and recorded.', SUCCESS),
      '400': errorDoc(400, 'Not a session id, the caller\'s own session, or a bad body (`BAD_USER_INPUT`).'),
      '403': REAUTHENTICATION,
      '404': errorDoc(404, 'Not an active session of the caller, whoever owns it (`NOT_FOUND`).'),
      ...AUTH_ERRORS,
    },
  },
    handle: authenticated('request', async (c, viewer) => {
      const body = await readJsonObject(c.request);
      await revokeSession(c.services, viewer, c.params.id, requestInfo(c), { reported: true, currentPassword: body.currentPassword });
      return json(200, { success: true });
    }),
  },
];
