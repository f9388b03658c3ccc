import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../rest-compat/routes.js';
import { ERROR_STATUS, type ErrorCode } from '../src/errors.js';
import { registerUser, type AuthPayload } from './support/client.js';
import { useTestServer } from './support/server.js';

/**
 * Property: whatever JSON anyone sends to any route, the answer is never a
 * 5xx, and an error always has the contract's shape.
 */

/** Every REST route but the event stream (it answers a good token with a stream that never ends), and GraphQL. */
const ROUTES = [
  ...routes.filter((route) => !JSON.stringify(route.doc).includes('text/event-stream')).map(({ method, path }) => ({ method, path })),
  { method: 'POST', path: '/graphql' },
];

/** Every code of the contract but the one no client may ever see. */
const CONTRACT_CODES = (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((code) => code !== 'INTERNAL_SERVER_ERROR');

// JSON that looks like what an attacker or a broken client sends: our field names, operators, wrong types.
const key = fc.oneof(
  fc.constantFrom('name', 'email', 'password', 'deviceInfo', 'exceptCurrent', 'query', 'variables', 'input', 'i', 'id'),
  fc.constantFrom('$ne', '$gt', '$regex', '$where', '__proto__', 'constructor'),
  fc.string({ maxLength: 12 }),
);
const leaf = fc.oneof(fc.string({ maxLength: 60 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.emailAddress());
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 5 })),
})).node;
const body = fc.oneof(
  fc.dictionary(key, value, { maxKeys: 6 }).map((v) => JSON.stringify(v)),
  value.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 80 }),
  fc.record({ query: fc.constantFrom('mutation($i: LoginInput!) { login(input: $i) { token } }', 'mutation($i: RegisterInput!) { register(input: $i) { token } }', '{ me { id } }', 'mutation($id: ID!) { revokeSession(id: $id) }'), variables: fc.dictionary(key, value, { maxKeys: 3 }) }).map((v) => JSON.stringify(v)),
);

describe('random JSON at every route', () => {
  const server = useTestServer();
  let user: AuthPayload;

  beforeAll(async () => {
    user = await registerUser(server.graphqlUrl);
  });

  it.each(ROUTES)('$method $path never answers 5xx', async ({ method, path }) => {
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), fc.string({ maxLength: 40 }), async (payload, withToken, idSegment) => {
        const url = `${server.url}${path.replace(/:\w+/, encodeURIComponent(idSegment) || 'x')}`;
        const response = await fetch(url, {
          method,
          headers: { 'content-type': 'application/json', ...(withToken ? { authorization: `Bearer ${user.token}` } : {}) },
          body: method === 'GET' ? undefined : payload,
        });
        const text = await response.text();
        expect(response.status, text).toBeLessThan(500);
        if (response.status >= 400) {
          const json = JSON.parse(text) as { error?: { code: string }; errors?: Array<{ extensions?: { code?: string } }> };
          const code = path === '/graphql' ? json.errors?.[0]?.extensions?.code : json.error?.code;
          expect(CONTRACT_CODES, text).toContain(code);
        }
      }),
      { numRuns: 60 },
    );
  });
});
