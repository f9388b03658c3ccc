import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './support/server.js';
import { isEvent, openEventStream } from './support/sse.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: Json };

const isObject = (value: unknown): value is { [key: string]: Json } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const FORMATS: Record<string, RegExp> = {
  'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

// OpenAPI 3.1 schemas are JSON Schema 2020-12. Not strict: the document carries OpenAPI's own keywords.
const ajv = new Ajv2020({ allErrors: true, strict: false });
for (const [name, pattern] of Object.entries(FORMATS)) ajv.addFormat(name, pattern);

/**
 * Checks a value against a schema of the document (its `$ref`s point into
 * `#/components`). Returns one line per violation, `path: message`.
 */
function validate(document: Schema, schema: Json, value: unknown): string[] {
  if (!isObject(schema)) return ['$: schema is not an object'];
  const check = ajv.compile({ ...schema, components: document.components });
  if (check(value)) return [];
  return (check.errors ?? []).map((error) => {
    const extra = error.keyword === 'additionalProperties' ? `/${String(error.params.additionalProperty)}` : '';
    const missing = error.keyword === 'required' ? `/${String(error.params.missingProperty)}` : '';
    return `${error.instancePath}${extra}${missing}: ${error.keyword}`;
  });
}

/** What a local `$ref` (`#/components/schemas/User`) points at. */
function resolve(document: Schema, ref: string): Json | undefined {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<Json | undefined>((node, key) => (isObject(node) ? node[key] : undefined), document);
}

/** Every `$ref` in the document, wherever it sits. */
function refs(node: Json): string[] {
  if (Array.isArray(node)) return node.flatMap(refs);
  if (!isObject(node)) return [];
  return Object.entries(node).flatMap(([key, value]) => (key === '$ref' && typeof value === 'string' ? [value] : refs(value)));
}

const toOpenApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

describe('GET /api/openapi.json', () => {
  const server = useTestServer();
  let document: Schema;

  beforeAll(async () => {
    const response = await fetch(`${server.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    document = (await response.json()) as Schema;
  });

  const operation = (method: string, template: string): Schema => {
    const paths = document.paths as Schema;
    const item = paths[toOpenApiPath(template)];
    const op = isObject(item) ? item[method.toLowerCase()] : undefined;
    if (!isObject(op)) throw new Error(`${method} ${template} is not documented`);
    return op;
  };

  // The paths are built from the router's own table (rest-compat/openapi.ts), so they cannot drift from it.
  it('is OpenAPI 3.1 and every $ref resolves', () => {
    expect(document.openapi).toBe('3.1.0');
    for (const ref of refs(document)) expect(resolve(document, ref), ref).toBeDefined();
  });

  it('documents every response the routes really give, status and shape', async () => {
    const base = server.url;
    const seen = new Set<string>();
    /** Sends a request and checks the answer against the documented response for its status. */
    const check = async (method: string, template: string, path: string, init: { token?: string; body?: unknown } = {}): Promise<unknown> => {
      const op = operation(method, template);
      if (init.body !== undefined && isObject(op.requestBody)) {
        // What the tests send as a valid body must be what the document describes.
        const content = op.requestBody.content as Schema;
        const schema = (content['application/json'] as Schema).schema as Json;
        const bodyErrors = validate(document, schema, init.body);
        if (bodyErrors.length === 0) seen.add(`${method} ${template} request`);
      }
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), 'content-type': 'application/json' },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const documented = (op.responses as Schema)[String(response.status)];
      expect(documented, `${method} ${template} answered ${response.status}, which is not documented`).toBeDefined();
      if (response.status === 204) {
        // No content, and none documented.
        expect(await response.text()).toBe('');
        expect((documented as Schema).content).toBeUndefined();
        seen.add(`${method} ${template} 204`);
        return null;
      }
      const content = (documented as Schema).content as Schema;
      const type = (response.headers.get('content-type') ?? '').split(';')[0]!;
      expect(Object.keys(content), `${method} ${template} ${response.status} as ${type}`).toContain(type);
      const body = (await response.json()) as unknown;
      expect(validate(document, (content[type] as Schema).schema as Json, body), `${method} ${template} ${response.status}`).toEqual([]);
      seen.add(`${method} ${template} ${response.status}`);
      return body;
    };

    const address = `openapi.${Date.now()}@example.com`;
    const registration = { name: 'Open Api', email: address, password: 'password123', deviceInfo: 'docs' };
    const first = (await check('POST', '/api/auth/register', '/api/auth/register', { body: registration })) as { token: string };
    await check('POST', '/api/auth/register', '/api/auth/register', { body: registration });
    await check('POST', '/api/auth/register', '/api/auth/register', { body: { ...registration, email: 'nope' } });
    await check('POST', '/api/auth/register', '/api/auth/register', { body: { ...registration, name: 'n'.repeat(200_000) } });
    const login = { email: address, password: 'password123' };
    const second = (await check('POST', '/api/auth/login', '/api/auth/login', { body: login })) as { token: string; session: { id: string } };
    const third = (await check('POST', '/api/auth/login', '/api/auth/login', { body: login })) as { token: string; session: { id: string } };
    await check('POST', '/api/auth/login', '/api/auth/login', { body: { ...login, password: 'wrong password' } });
    await check('POST', '/api/auth/login', '/api/auth/login', { body: { email: address } });
    await check('GET', '/api/auth/me', '/api/auth/me', { token: first.token });
    await check('GET', '/api/auth/me', '/api/auth/me');
    await check('GET', '/api/auth/sessions', '/api/auth/sessions', { token: first.token });
    await check('GET', '/api/auth/sessions', '/api/auth/sessions', { token: 'garbage' });

    // The event stream: its 401, then real events checked against the documented event schemas.
    await check('GET', '/api/auth/events', '/api/auth/events');
    const stream = await openEventStream(`${base}/api/auth/events?token=${first.token}`);
    const ok = operation('GET', '/api/auth/events');
    const streamed = (ok.responses as Schema)['200'] as Schema;
    expect(Object.keys(streamed.content as Schema)).toContain((stream.response.headers.get('content-type') ?? '').split(';')[0]);
    const eventSchemas = streamed['x-sse-events'] as Schema;
    await stream.until(isEvent('connected'));
    // A new sign-in the stream tells of (`session-created`).
    await check('POST', '/api/auth/login', '/api/auth/login', { body: { ...login, deviceInfo: 'fourth' } });

    await check('DELETE', '/api/auth/sessions/:id', `/api/auth/sessions/${second.session.id}`, { token: first.token });
    await check('DELETE', '/api/auth/sessions/:id', `/api/auth/sessions/${second.session.id}`, { token: first.token });
    await check('DELETE', '/api/auth/sessions/:id', '/api/auth/sessions/not-an-id', { token: first.token });
    await check('DELETE', '/api/auth/sessions/:id', `/api/auth/sessions/${second.session.id}`);
    await check('POST', '/api/auth/logout-all', '/api/auth/logout-all', { token: first.token, body: { exceptCurrent: 'no' } });
    await check('POST', '/api/auth/logout-all', '/api/auth/logout-all', { token: third.token, body: { exceptCurrent: true } });
    await check('POST', '/api/auth/logout', '/api/auth/logout', { token: third.token });
    await check('POST', '/api/auth/logout', '/api/auth/logout', { token: third.token });
    await check('POST', '/api/auth/logout-all', '/api/auth/logout-all', { token: 'garbage' });
    await check('GET', '/api/openapi.json', '/api/openapi.json');

    // Account security: the timeline, a password change, and deleting a second account.
    const fresh = (await check('POST', '/api/auth/login', '/api/auth/login', { body: login })) as { token: string };
    await check('GET', '/api/auth/security-events', '/api/auth/security-events?limit=2', { token: fresh.token });
    await check('GET', '/api/auth/security-events', '/api/auth/security-events?limit=0', { token: fresh.token });
    await check('GET', '/api/auth/security-events', '/api/auth/security-events');
    const change = { currentPassword: 'password123', newPassword: 'password456' };
    await check('POST', '/api/auth/password', '/api/auth/password', { token: fresh.token, body: { ...change, currentPassword: 'wrong password' } });
    await check('POST', '/api/auth/password', '/api/auth/password', { token: fresh.token, body: { ...change, newPassword: 'short' } });
    await check('POST', '/api/auth/password', '/api/auth/password', { token: fresh.token, body: change });
    const doomed = (await check('POST', '/api/auth/register', '/api/auth/register', {
      body: { ...registration, email: `doomed.${address}` },
    })) as { token: string };
    await check('DELETE', '/api/auth/account', '/api/auth/account', { token: doomed.token, body: { password: 'wrong password' } });
    await check('DELETE', '/api/auth/account', '/api/auth/account', { token: doomed.token, body: { password: 7 } });
    await check('DELETE', '/api/auth/account', '/api/auth/account', { token: doomed.token, body: { password: 'password123' } });

    await stream.readToEnd();
    const events = stream.seen.filter((item) => item.kind === 'event');
    expect(new Set(events.map((e) => (e.kind === 'event' ? e.event : '')))).toEqual(new Set(['connected', 'session-created', 'session-revoked']));
    for (const event of events) {
      if (event.kind !== 'event') continue;
      const schema = eventSchemas[event.event];
      expect(schema, `event ${event.event} is not documented`).toBeDefined();
      expect(validate(document, schema as Json, JSON.parse(event.data)), `event ${event.event}`).toEqual([]);
    }

    // Every route was seen succeeding and failing, and every valid body sent matched its documented schema.
    expect([...seen].sort()).toEqual(
      [
        'DELETE /api/auth/account 204',
        'DELETE /api/auth/account 400',
        'DELETE /api/auth/account 401',
        'DELETE /api/auth/account request',
        'GET /api/auth/security-events 200',
        'GET /api/auth/security-events 400',
        'GET /api/auth/security-events 401',
        'POST /api/auth/password 200',
        'POST /api/auth/password 400',
        'POST /api/auth/password 401',
        'POST /api/auth/password request',
        'DELETE /api/auth/sessions/:id 200',
        'DELETE /api/auth/sessions/:id 400',
        'DELETE /api/auth/sessions/:id 401',
        'DELETE /api/auth/sessions/:id 404',
        'GET /api/auth/events 401',
        'GET /api/auth/me 200',
        'GET /api/auth/me 401',
        'GET /api/auth/sessions 200',
        'GET /api/auth/sessions 401',
        'GET /api/openapi.json 200',
        'POST /api/auth/login 200',
        'POST /api/auth/login 400',
        'POST /api/auth/login 401',
        'POST /api/auth/login request',
        'POST /api/auth/logout 200',
        'POST /api/auth/logout 401',
        'POST /api/auth/logout-all 200',
        'POST /api/auth/logout-all 400',
        'POST /api/auth/logout-all 401',
        'POST /api/auth/logout-all request',
        'POST /api/auth/register 201',
        'POST /api/auth/register 400',
        'POST /api/auth/register 409',
        'POST /api/auth/register 413',
        'POST /api/auth/register request',
      ].sort(),
    );
  });

  it('the checker itself refuses a drifted shape', () => {
    const session = { $ref: '#/components/schemas/Session' };
    expect(validate(document, session, { id: 'x' })).toContain('/deviceInfo: required');
    expect(validate(document, { $ref: '#/components/schemas/User' }, {
      id: '1', email: 'a@b.co', name: 'A', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: 'yesterday', extra: 1,
    }).sort()).toEqual(['/extra: additionalProperties', '/updatedAt: format']);
  });
});
