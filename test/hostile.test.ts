import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { codePointLength, MAX_LENGTH, validateDeviceInfo } from '../src/auth/validation.js';
import { GRAPHQL_LIMITS } from '../src/graphql/limits.js';
import { createLogger } from '../src/logger.js';
import { schema } from '../src/schema/index.js';
import { badTokens } from './support/bad-tokens.js';
import { PASSWORD, registerUser, uniqueEmail, type AuthPayload } from './support/client.js';
import { restClient, type RestAuth, type RestErrorBody } from './support/rest.js';
import { recordCommands, useTestServer, type ServerFixture } from './support/server.js';
import { openRestEvents } from './support/sse.js';

/**
 * Every attack of the hardening issue against both front doors, asserting the
 * exact status and code, then that the server is healthy and valid tokens work.
 */

interface Answer {
  status: number;
  code: string | undefined;
}

const REGISTER = 'mutation($i: RegisterInput!) { register(input: $i) { token } }';
const LOGIN = 'mutation($i: LoginInput!) { login(input: $i) { token } }';
const OPERATORS = [{ $ne: null }, { $gt: '' }, { $regex: '.*' }, { $where: 'sleep(1000)' }, ['a@b.co'], 12345678, true];

describe('hostile requests get their contract code and a 4xx', () => {
  // Every line the server logs, at its most talkative level: hostile input must never appear in them.
  const logLines: string[] = [];
  const logger = createLogger({ level: 'trace', serverId: 'hostile', destination: { write: (line: string) => void logLines.push(line) } });
  const server = useTestServer({ monitorCommands: true, logger });
  let user: AuthPayload & { email: string };
  let commands: string[] = [];

  beforeAll(async () => {
    commands = recordCommands(server);
    user = await registerUser(server.graphqlUrl);
  });

  /** The first GraphQL error's code, if the answer has a JSON body. */
  async function errorCode(response: Response): Promise<string | undefined> {
    const text = await response.text();
    if (!text) return undefined;
    return (JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.[0]?.extensions?.code;
  }

  async function graphql(body: string | object, token?: string): Promise<Answer> {
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const json = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    return { status: response.status, code: json.errors?.[0]?.extensions?.code };
  }

  const api = restClient(server);
  /** A REST call's status and error code (a string body is sent verbatim). */
  async function restCode(method: string, path: string, body?: string | object, token?: string): Promise<Answer> {
    const reply = await api.call(method, path, { token, ...(typeof body === 'string' ? { body } : { json: body }) });
    return { status: reply.status, code: (reply.body as Partial<RestErrorBody> | undefined)?.error?.code };
  }

  it.each(['name', 'email', 'password', 'deviceInfo'])('NoSQL operators and wrong types in register.%s are BAD_USER_INPUT, before any query', async (field) => {
    for (const value of OPERATORS) {
      const input = { name: 'Mallory', email: `m.${randomUUID()}@example.com`, password: PASSWORD, [field]: value };
      commands.length = 0;
      expect(await restCode('POST', '/api/auth/register', input)).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      expect(await graphql({ query: REGISTER, variables: { i: input } })).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      expect(commands).toEqual([]);
    }
  });

  it.each(['email', 'password', 'deviceInfo'])('NoSQL operators and wrong types in login.%s are BAD_USER_INPUT, before any query', async (field) => {
    for (const value of OPERATORS) {
      const input = { email: user.email, password: PASSWORD, [field]: value };
      commands.length = 0;
      expect(await restCode('POST', '/api/auth/login', input)).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      expect(await graphql({ query: LOGIN, variables: { i: input } })).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      expect(commands).toEqual([]);
    }
  });

  it('operators in logout-all, revokeSession and session ids are BAD_USER_INPUT', async () => {
    expect(await restCode('POST', '/api/auth/logout-all', { exceptCurrent: { $ne: null } }, user.token)).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
    expect(await restCode('DELETE', `/api/auth/sessions/${encodeURIComponent('{"$ne":null}')}`, undefined, user.token)).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
    expect(
      await graphql({ query: 'mutation($id: ID!) { revokeSession(id: $id) }', variables: { id: { $ne: null } } }, user.token),
    ).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
  });

  it('malformed JSON is BAD_USER_INPUT 400', async () => {
    for (const body of ['{"email": ', 'not json', '{"a":1}}', '\u0000']) {
      expect(await restCode('POST', '/api/auth/login', body)).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      expect(await graphql(body)).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
    }
  });

  it('a 5 MB body is PAYLOAD_TOO_LARGE 413 on every route', async () => {
    const huge = JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(5 * 1024 * 1024) });
    expect(await restCode('POST', '/api/auth/login', huge)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(await restCode('POST', '/api/auth/register', huge)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(await graphql(huge)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('control characters are refused, never a 500', async () => {
    const base = { email: `u.${randomUUID()}@example.com`, password: PASSWORD };
    expect(await restCode('POST', '/api/auth/register', { ...base, name: 'nul\u0000byte' })).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
    expect(await restCode('POST', '/api/auth/register', { ...base, name: 'bell\u0007' })).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
    expect(await restCode('POST', '/api/auth/register', { ...base, email: 'a\u0000@b.co', name: 'X' })).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
  });

  /** Register on both APIs with `fields` over a fresh valid input: REST's answer, then GraphQL's. */
  async function registerBoth(fields: Record<string, unknown>): Promise<[Answer, Answer]> {
    const input = (label: string) => ({ name: 'Uni Code', email: `${label}.${randomUUID()}@example.com`, password: PASSWORD, ...fields });
    return [await restCode('POST', '/api/auth/register', input('rest')), await graphql({ query: REGISTER, variables: { i: input('gql') } })];
  }

  // GraphQL answers an error raised while executing with 200 and the code, as it does for every resolver error.
  const REFUSED: [Answer, Answer] = [{ status: 400, code: 'BAD_USER_INPUT' }, { status: 200, code: 'BAD_USER_INPUT' }];
  const ACCEPTED: [Answer, Answer] = [{ status: 201, code: undefined }, { status: 200, code: undefined }];

  it.each<[string, Record<string, unknown>, [Answer, Answer]]>([
    ['a bidi override in a name ("invoice<RLO>gpj.exe")', { name: 'invoice\u202egpj.exe' }, REFUSED],
    ['a bidi isolate in deviceInfo', { deviceInfo: 'Phone \u2067x\u2069' }, REFUSED],
    ['a name of zero-width characters only', { name: '\u200b\u200c\u200d' }, REFUSED],
    ['a deviceInfo of invisible characters only', { deviceInfo: '\u200b\u2060\ufeff\u200b' }, REFUSED],
    ['a lone surrogate in a name (not encodable as UTF-8)', { name: 'Zoë \ud800 李' }, REFUSED],
    ['a lone surrogate in deviceInfo', { deviceInfo: 'phone \udc00' }, REFUSED],
    ['150 📱 as deviceInfo (150 characters, 300 UTF-16 units)', { deviceInfo: '📱'.repeat(150) }, ACCEPTED],
    ['100 😀 as a name', { name: '😀'.repeat(100) }, ACCEPTED],
    ['101 😀 as a name', { name: '😀'.repeat(101) }, REFUSED],
    ['right-to-left text, accents and CJK', { name: 'Zoë שלום 李', deviceInfo: 'טלפון של זואי' }, ACCEPTED],
  ])('%s: the same answer on both APIs', async (_label, fields, expected) => {
    expect(await registerBoth(fields)).toEqual(expected);
  });

  it('invalid UTF-8 in a body is BAD_USER_INPUT on both APIs', async () => {
    const bad = (json: string): Uint8Array<ArrayBuffer> => {
      const [before, after] = json.split('BAD') as [string, string];
      return new Uint8Array(Buffer.concat([Buffer.from(before), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(after)]));
    };
    const input = `{"name": "BAD", "email": "utf8.${randomUUID()}@example.com", "password": "${PASSWORD}"}`;
    const post = (url: string, body: Uint8Array<ArrayBuffer>) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const restAnswer = await post(`${server.url}/api/auth/register`, bad(input));
    expect(restAnswer.status).toBe(400);
    expect(await restAnswer.json()).toEqual({ error: { code: 'BAD_USER_INPUT', message: 'request body must be UTF-8 encoded JSON' } });
    const gqlAnswer = await post(server.graphqlUrl, bad(`{"query": "${REGISTER.replace(/\$/g, '$')}", "variables": {"i": ${input}}}`));
    expect(gqlAnswer.status).toBe(400);
    expect(await gqlAnswer.json()).toEqual({ errors: [{ message: 'request body must be UTF-8 encoded JSON', extensions: { code: 'BAD_USER_INPUT' } }] });
  });

  it('a half-made account is never left behind: 150 📱 register, and the same email registers once', async () => {
    const email = `phone.${randomUUID()}@example.com`;
    const input = { name: 'Phone', email, password: PASSWORD, deviceInfo: '📱'.repeat(150) };
    expect(await restCode('POST', '/api/auth/register', input)).toEqual({ status: 201, code: undefined });
    expect(await restCode('POST', '/api/auth/register', input)).toEqual({ status: 409, code: 'EMAIL_TAKEN' });
  });

  describe('one spelling per email address', () => {
    it('NFC and NFD spellings are one account, on both APIs', async () => {
      const id = randomUUID();
      const decomposed = `zoe\u0301.${id}@example.com`;
      const composed = `zo\u00e9.${id}@example.com`;
      const created = await fetch(`${server.url}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Zoé', email: decomposed, password: PASSWORD }),
      });
      expect(created.status).toBe(201);
      expect(((await created.json()) as { user: { email: string } }).user.email).toBe(composed);
      expect(await graphql({ query: REGISTER, variables: { i: { name: 'Zoé', email: composed.toUpperCase(), password: PASSWORD } } })).toEqual({ status: 200, code: 'EMAIL_TAKEN' });
      expect(await graphql({ query: LOGIN, variables: { i: { email: composed, password: PASSWORD } } })).toEqual({ status: 200, code: undefined });
      expect(await restCode('POST', '/api/auth/login', { email: decomposed, password: PASSWORD })).toEqual({ status: 200, code: undefined });
    });

    it('an internationalised domain and its punycode are one account, stored in ASCII', async () => {
      const local = `idn.${randomUUID()}`;
      const created = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation($i: RegisterInput!) { register(input: $i) { user { email } } }', variables: { i: { name: 'Idn', email: `${local}@Bücher.example`, password: PASSWORD } } }),
      });
      expect(((await created.json()) as { data: { register: { user: { email: string } } } }).data.register.user.email).toBe(`${local}@xn--bcher-kva.example`);
      expect(await restCode('POST', '/api/auth/register', { name: 'Idn', email: `${local}@xn--bcher-kva.example`, password: PASSWORD })).toEqual({ status: 409, code: 'EMAIL_TAKEN' });
      expect(await restCode('POST', '/api/auth/login', { email: `${local}@BÜCHER.example`, password: PASSWORD })).toEqual({ status: 200, code: undefined });
      expect(await restCode('POST', '/api/auth/login', { email: `${local}@xn--bcher-kva.example`, password: PASSWORD })).toEqual({ status: 200, code: undefined });
    });
  });

  describe('cross-site requests: bodies must be JSON', () => {
    // What an HTML form or a no-preflight fetch from another site can send.
    const FORMS: Array<[string, (query: string, variables: object) => string]> = [
      ['application/x-www-form-urlencoded', (q, v) => new URLSearchParams({ query: q, variables: JSON.stringify(v) }).toString()],
      ['multipart/form-data; boundary=x', (q, v) => `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: q, variables: v })}\r\n--x--\r\n`],
      ['text/plain', (q, v) => JSON.stringify({ query: q, variables: v })],
      ['application/graphql', (q) => q],
    ];

    it.each(FORMS)('a %s POST is 415 BAD_USER_INPUT on both APIs, and nothing is created', async (type, encode) => {
      const email = `csrf.${randomUUID()}@example.com`;
      const input = { name: 'Csrf', email, password: PASSWORD };
      const answer = async (url: string, body: string) => {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
        return { status: response.status, body: await response.json() };
      };
      expect(await answer(server.graphqlUrl, encode(REGISTER, { i: input }))).toEqual({
        status: 415,
        body: { errors: [{ message: 'The request body must be sent as application/json', extensions: { code: 'BAD_USER_INPUT' } }] },
      });
      expect(await answer(`${server.url}/api/auth/register`, type === 'application/graphql' ? JSON.stringify(input) : encode(REGISTER, input))).toEqual({
        status: 415,
        body: { error: { code: 'BAD_USER_INPUT', message: 'The request body must be sent as application/json' } },
      });
      // Neither request registered the address.
      expect(await restCode('POST', '/api/auth/register', input)).toEqual({ status: 201, code: undefined });
    });
  });

  describe('tokens', () => {
    it('every bad token is UNAUTHENTICATED on both APIs and the events stream', async () => {
      for (const [name, token] of badTokens(user)) {
        expect(await restCode('GET', '/api/auth/me', undefined, token), name).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
        expect(await restCode('GET', '/api/auth/sessions', undefined, token), name).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
        expect(await graphql({ query: '{ me { id } }' }, token), name).toEqual({ status: 200, code: 'UNAUTHENTICATED' });
        // The account security routes: nothing is checked, changed or deleted for a bad token.
        expect(await restCode('GET', '/api/auth/security-events', undefined, token), name).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
        expect(await restCode('POST', '/api/auth/password', { currentPassword: 'x', newPassword: 'long enough' }, token), name).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
        expect(await restCode('DELETE', '/api/auth/account', { password: 'x' }, token), name).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
        const events = await fetch(`${server.url}/api/auth/events?token=${encodeURIComponent(token)}`, { headers: { accept: 'text/event-stream' } });
        expect(events.status, name).toBe(401);
        expect(((await events.json()) as { error: { code: string } }).error.code, name).toBe('UNAUTHENTICATED');
      }
    });
  });

  describe('GraphQL documents built to exhaust the server', () => {
    it('an alias flood of logins is refused before any login runs', async () => {
      const aliases = Array.from({ length: GRAPHQL_LIMITS.maxAliases + 5 }, (_, i) => `a${i}: login(input: {email: "${user.email}", password: "guess${i}"}) { token }`);
      commands.length = 0;
      expect(await graphql({ query: `mutation { ${aliases.join(' ')} }` })).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      expect(commands).toEqual([]);
    });

    it('a token flood, deep nesting and directive flood are 400', async () => {
      const tokens = `{ ${Array.from({ length: GRAPHQL_LIMITS.maxTokens }, () => '__typename').join(' ')} }`;
      expect(await graphql({ query: tokens })).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      const levels = GRAPHQL_LIMITS.maxDepth + 5;
      const deep = `{ __type(name: "Session") { fields { type ${'{ ofType '.repeat(levels)}{ name }${' }'.repeat(levels)} } } }`;
      expect(await graphql({ query: deep })).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      const directives = `{ __typename ${'@include(if: true) '.repeat(GRAPHQL_LIMITS.maxDirectives + 5)} }`;
      expect(await graphql({ query: directives })).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
    });

    const PAGE = 'events { id type at ipAddress deviceInfo sessionId current __typename } nextCursor __typename';

    it('accepts every documented query: a page of 100 security events with every field, by literal or variable, beside sessions and me', async () => {
      expect(await graphql({ query: `{ securityEvents(first: 100) { ${PAGE} } }` }, user.token)).toEqual({ status: 200, code: undefined });
      expect(await graphql({ query: `query($n: Int) { securityEvents(first: $n) { ${PAGE} } }`, variables: { n: 100 } }, user.token)).toEqual({ status: 200, code: undefined });
      const dashboard = `{
        me { id name email createdAt updatedAt __typename }
        sessions { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt current __typename }
        securityEvents(first: 100) { ${PAGE} }
      }`;
      expect(await graphql({ query: dashboard }, user.token)).toEqual({ status: 200, code: undefined });
    });

    it('refuses documents that ask for many pages at once, whether the page size is written in or a variable', async () => {
      const pages = (n: number, first: string) => Array.from({ length: n }, (_, i) => `p${i}: securityEvents(first: ${first}) { ${PAGE} }`).join(' ');
      expect(await graphql({ query: `{ ${pages(3, '100')} }` }, user.token)).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      expect(await graphql({ query: `query($n: Int) { ${pages(GRAPHQL_LIMITS.maxAliases, '$n')} }`, variables: { n: 100 } }, user.token)).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
    });

    it('batching is off: an array of operations is a 400', async () => {
      const batch = [{ query: '{ __typename }' }, { query: '{ __typename }' }];
      expect((await graphql(batch)).status).toBe(400);
    });

    it('syntax and validation errors are BAD_USER_INPUT 400, not GraphQL-internal codes', async () => {
      expect(await graphql({ query: '{ me { ' })).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      expect(await graphql({ query: '{ doesNotExist }' })).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
    });
  });

  describe('subscriptions over a transport that cannot stream', () => {
    // Every subscription field of the schema, so that a new one is covered the day it is added.
    const fields = Object.keys(schema.getSubscriptionType()?.getFields() ?? {});

    it('the schema has subscription fields to check', () => {
      expect(fields).toEqual(expect.arrayContaining(['sessionRevoked', 'sessionCreated']));
    });

    it.each(fields)('%s without Accept: text/event-stream is 400 BAD_USER_INPUT and takes no stream place', async (field) => {
      const owner = await registerUser(server.graphqlUrl);
      const query = `subscription { ${field} { __typename } }`;
      const auth = { authorization: `Bearer ${owner.token}` };
      const refusals = [];
      // More than the session may hold open: a place kept by any of them would refuse the real streams below.
      for (let i = 0; i < server.services.config.caps.streamsPerSession; i += 1) {
        for (const accept of ['application/json', 'application/graphql-response+json', '*/*', 'multipart/mixed']) {
          const post = await fetch(server.graphqlUrl, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', accept }, body: JSON.stringify({ query }) });
          const get = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent(query)}`, { headers: { ...auth, accept } });
          for (const response of [post, get]) refusals.push({ accept, status: response.status, code: await errorCode(response) });
        }
      }
      // A client that takes only multipart/mixed gets no JSON either: 406, and likewise nothing kept.
      const refused = (accept: string) => (accept === 'multipart/mixed' ? { accept, status: 406, code: undefined } : { accept, status: 400, code: 'BAD_USER_INPUT' });
      expect(refusals).toEqual(refusals.map(({ accept }) => refused(accept)));
      // The session's real streams open, on both APIs.
      const controller = new AbortController();
      const stream = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query }),
        signal: controller.signal,
      });
      expect(stream.status).toBe(200);
      controller.abort();
      const events = await openRestEvents(server, owner.token);
      events.close();
    });
  });

  describe('malformed GraphQL request parameters', () => {
    const SECRET = 'hunter2-in-the-parameters';
    // A valid document that reads its variable: only the parameters can be wrong.
    const DOCUMENT = 'query($skip: Boolean = false) { __typename @skip(if: $skip) }';
    const query = encodeURIComponent(DOCUMENT);

    const answer = async (response: Response): Promise<Answer> => ({ status: response.status, code: await errorCode(response) });

    it('the document itself is answered, with or without variables', async () => {
      expect(await answer(await fetch(`${server.graphqlUrl}?query=${query}&variables=${encodeURIComponent('{"skip": true}')}`))).toEqual({ status: 200, code: undefined });
      expect(await answer(await fetch(`${server.graphqlUrl}?query=${query}&variables=null&extensions=%7B%7D`))).toEqual({ status: 200, code: undefined });
    });

    it.each(['variables', 'extensions'])('a GET with malformed %s is 400 BAD_USER_INPUT, and nothing of it is logged', async (param) => {
      logLines.length = 0;
      for (const text of [`{"skip": {"email": "a@b.co", "password": "${SECRET}"`, `${SECRET}`, `{"skip": "${SECRET}"}}`, `"${SECRET}"`, '[1, 2]', '42']) {
        const response = await fetch(`${server.graphqlUrl}?query=${query}&${param}=${encodeURIComponent(text)}`);
        expect(await answer(response), text).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      }
      expect(logLines.join('\n')).not.toContain(SECRET);
      expect(logLines.map((line) => (JSON.parse(line) as { level: number }).level).filter((level) => level >= 50)).toEqual([]);
    });

    it.each(['variables', 'extensions'])('a POST whose %s is not an object is 400 BAD_USER_INPUT', async (param) => {
      logLines.length = 0;
      for (const value of [SECRET, [SECRET], 42, true]) {
        const response = await fetch(server.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: DOCUMENT, [param]: value }),
        });
        expect(await answer(response), JSON.stringify(value)).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      }
      expect(logLines.join('\n')).not.toContain(SECRET);
    });
  });

  describe('User-Agents no browser sends', () => {
    const AGENTS = [
      `Mozilla/5.0 (X11; Linux x86_64) Chrome/${'9'.repeat(300)} Safari/537.36`,
      `curl/${'8.'.repeat(200)}0`,
      `Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/${'1'.repeat(500)}`,
      `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Version/${'1'.repeat(400)} Safari/605.1.15`,
      `PostmanRuntime/${'7'.repeat(900)}`,
    ];

    it.each(AGENTS.map((ua) => [`${ua.slice(0, 40)}… (${ua.length} characters)`, ua]))(
      '%s: register and login succeed on both APIs with a valid deviceInfo',
      async (_label, ua) => {
        const headers = { 'user-agent': ua };
        const rest = restClient(server);
        const registered = await rest.call('POST', '/api/auth/register', { json: { name: 'Agent', email: uniqueEmail('ua'), password: PASSWORD }, headers });
        expect(registered.status, JSON.stringify(registered.body)).toBe(201);
        const email = (registered.body as RestAuth).user.email;
        const loggedIn = await rest.call('POST', '/api/auth/login', { json: { email, password: PASSWORD }, headers });
        expect(loggedIn.status, JSON.stringify(loggedIn.body)).toBe(200);
        const viaGraphql = async (query: string, input: object) => {
          const response = await fetch(server.graphqlUrl, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({ query, variables: { i: input } }),
          });
          const body = (await response.json()) as { data?: Record<string, { session: { deviceInfo: string } }>; errors?: unknown };
          expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
          return Object.values(body.data ?? {})[0]?.session.deviceInfo;
        };
        const labels = [
          (registered.body as RestAuth).session.deviceInfo,
          (loggedIn.body as RestAuth).session.deviceInfo,
          await viaGraphql('mutation($i: RegisterInput!) { register(input: $i) { session { deviceInfo } } }', { name: 'Agent', email: uniqueEmail('ua'), password: PASSWORD }),
          await viaGraphql('mutation($i: LoginInput!) { login(input: $i) { session { deviceInfo } } }', { email, password: PASSWORD }),
        ];
        for (const label of labels) {
          expect(codePointLength(label ?? '')).toBeLessThanOrEqual(MAX_LENGTH.deviceInfo);
          expect(validateDeviceInfo(label)).toBe(label);
        }
      },
    );
  });

  it('after all of it the server is healthy and valid tokens still work', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const me = await fetch(`${server.url}/api/auth/me`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(me.status).toBe(200);
    expect(await graphql({ query: '{ me { id } }' }, user.token)).toEqual({ status: 200, code: undefined });
  });
});

describe('passwords longer than bcrypt\'s 72 bytes', () => {
  const server = useTestServer();

  it('keep every byte significant: a password sharing the first 72 bytes does not sign in', async () => {
    const email = `long.${randomUUID()}@example.com`;
    const prefix = 'p'.repeat(72);
    const register = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Long', email, password: `${prefix}-the-real-one` }),
    });
    expect(register.status).toBe(201);
    const login = (password: string) =>
      fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    expect((await login(`${prefix}-an-impostor`)).status).toBe(401);
    expect((await login(prefix)).status).toBe(401);
    expect((await login(`${prefix}-the-real-one`)).status).toBe(200);
  });
});

describe('HTTP hardening', () => {
  const production = useTestServer({ env: { NODE_ENV: 'production', TRUST_PROXY: 'true' } });

  it('sends security headers on every answer, HSTS only behind TLS', async () => {
    for (const path of ['/health', '/api/auth/me', '/graphql?query=%7B__typename%7D']) {
      const response = await fetch(`${production.url}${path}`);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('x-frame-options'), path).toBe('DENY');
      expect(response.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security'), path).toBeNull();
    }
    const behindTls = await fetch(`${production.url}/health`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(behindTls.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
  });

  it('in production, allows no cross-origin caller unless CORS_ORIGINS names it', async () => {
    const response = await fetch(`${production.url}/api/auth/me`, { headers: { origin: 'https://evil.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('in production, does not suggest field names to a prober', async () => {
    const response = await fetch(`${production.graphqlUrl}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ sesions { id } }' }),
    });
    const body = (await response.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(response.status).toBe(400);
    expect(body.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0]?.message).not.toMatch(/Did you mean/);
  });
});

describe('sign-in limits an attacker cannot step around', () => {
  // One proxy in front (TRUST_PROXY=true): it appends the address it saw to whatever X-Forwarded-For the client wrote.
  const env = { TRUST_PROXY: 'true', RATE_LIMIT_PER_ACCOUNT_ADDRESS: '3', RATE_LIMIT_PER_ACCOUNT: '1000', RATE_LIMIT_PER_IP: '1000' };
  // A private Redis: its counters start at zero, and one test stops it.
  const proxied = useTestServer({ env, ownRedis: true });
  const twoHops = useTestServer({ env: { ...env, TRUST_PROXY: '2' }, shareWith: proxied });

  type Api = 'rest' | 'graphql';
  const APIS: Api[] = ['rest', 'graphql'];

  /** A sign-in's outcome: OK, or the error code. */
  async function signIn(api: Api, email: string, password: string, forwardedFor: string): Promise<string> {
    const headers = { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor };
    if (api === 'rest') {
      const response = await fetch(`${proxied.url}/api/auth/login`, { method: 'POST', headers, body: JSON.stringify({ email, password }) });
      return response.status === 200 ? 'OK' : ((await response.json()) as RestErrorBody).error.code;
    }
    const response = await fetch(proxied.graphqlUrl, { method: 'POST', headers, body: JSON.stringify({ query: LOGIN, variables: { i: { email, password } } }) });
    const body = (await response.json()) as { errors?: Array<{ extensions: { code: string } }> };
    return body.errors?.[0]?.extensions.code ?? 'OK';
  }

  /** The ipAddress stored for a session registered through `server` with this X-Forwarded-For. */
  async function storedAddress(api: Api, server: ServerFixture, forwardedFor: string): Promise<string> {
    const headers = { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor };
    const input = { name: 'Ip', email: uniqueEmail('ip'), password: PASSWORD };
    if (api === 'rest') {
      const response = await fetch(`${server.url}/api/auth/register`, { method: 'POST', headers, body: JSON.stringify(input) });
      return ((await response.json()) as RestAuth).session.ipAddress;
    }
    const query = 'mutation($i: RegisterInput!) { register(input: $i) { session { ipAddress } } }';
    const response = await fetch(server.graphqlUrl, { method: 'POST', headers, body: JSON.stringify({ query, variables: { i: input } }) });
    return ((await response.json()) as { data: { register: { session: { ipAddress: string } } } }).data.register.session.ipAddress;
  }

  const failuresThenRefusals = (failures: number, total: number): string[] => [
    ...Array<string>(failures).fill('INVALID_CREDENTIALS'),
    ...Array<string>(total - failures).fill('RATE_LIMITED'),
  ];

  it.each(APIS)('%s: a client-written X-Forwarded-For entry is no address: 12 guesses through one proxy are refused after 3', async (api) => {
    const victim = await registerUser(proxied.graphqlUrl);
    const codes = [];
    for (let i = 0; i < 12; i += 1) codes.push(await signIn(api, victim.email, `guess ${i}`, `10.${i}.${i}.${i}, 198.51.100.${api === 'rest' ? 1 : 2}`));
    expect(codes).toEqual(failuresThenRefusals(3, 12));
  });

  it.each(APIS)("%s: writing the owner's address spends the writer's budget, never the owner's", async (api) => {
    const owner = await registerUser(proxied.graphqlUrl);
    const ownerAddress = api === 'rest' ? '203.0.113.10' : '203.0.113.11';
    const codes = [];
    for (let i = 0; i < 4; i += 1) codes.push(await signIn(api, owner.email, `guess ${i}`, `${ownerAddress}, 198.51.100.66`));
    expect(codes).toEqual(failuresThenRefusals(3, 4));
    expect(await signIn(api, owner.email, PASSWORD, ownerAddress)).toBe('OK');
  });

  it.each(APIS)('%s: the addresses of one IPv6 /64 share one budget; another /64 has its own', async (api) => {
    const victim = await registerUser(proxied.graphqlUrl);
    const prefix = api === 'rest' ? '2001:db8:a:1' : '2001:db8:b:1';
    const codes = [];
    for (let i = 2; i <= 9; i += 1) codes.push(await signIn(api, victim.email, `guess ${i}`, `${prefix}::${i}`));
    expect(codes).toEqual(failuresThenRefusals(3, 8));
    expect(await signIn(api, victim.email, PASSWORD, `${prefix.toUpperCase()}:0:0:0:ffff`)).toBe('RATE_LIMITED');
    expect(await signIn(api, victim.email, PASSWORD, `${prefix.slice(0, -1)}2::2`)).toBe('OK');
  });

  it.each(APIS)('%s: stores only a valid address, in full; anything else in X-Forwarded-For is the socket address', async (api) => {
    const stored: Record<string, string> = {};
    for (const forwarded of ['not-an-ip', '<script>alert(1)</script>', '203.0.113.7:443', '999.1.1.1', `${'1'.repeat(60)}`, 'x, 198.51.100.7 OR 1=1']) {
      stored[forwarded] = await storedAddress(api, proxied, forwarded);
    }
    expect(stored).toEqual(Object.fromEntries(Object.keys(stored).map((key) => [key, '127.0.0.1'])));
    expect(await storedAddress(api, proxied, 'spoofed, 2001:DB8:0:0:1::7')).toBe('2001:db8::1:0:0:7');
    expect(await storedAddress(api, proxied, '::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(await storedAddress(api, proxied, '203.0.113.7, 10.0.0.1')).toBe('10.0.0.1');
  });

  it.each(APIS)('%s: TRUST_PROXY=2 takes the address the outer of two proxies saw', async (api) => {
    expect(await storedAddress(api, twoHops, 'spoofed, 203.0.113.7, 10.0.0.1')).toBe('203.0.113.7');
    expect(await storedAddress(api, twoHops, '203.0.113.8')).toBe('203.0.113.8');
    expect(await storedAddress(api, twoHops, 'spoofed, not-an-ip, 10.0.0.1')).toBe('127.0.0.1');
  });

  it('failures counted in memory while Redis was down still count once it is back, on both APIs', async () => {
    const victims = { rest: await registerUser(proxied.graphqlUrl), graphql: await registerUser(proxied.graphqlUrl) };
    await proxied.redis.stop();
    try {
      for (const api of APIS) {
        const codes = [];
        for (let i = 0; i < 3; i += 1) codes.push(await signIn(api, victims[api].email, `guess ${i}`, '198.51.100.99'));
        expect(codes).toEqual(failuresThenRefusals(3, 3));
      }
    } finally {
      await proxied.redis.start();
    }
    await expect.poll(() => proxied.services.redis?.status, { timeout: 15_000 }).toBe('ready');
    for (const api of APIS) expect(await signIn(api, victims[api].email, 'one more guess', '198.51.100.99')).toBe('RATE_LIMITED');
    // The owner, from an address that has not failed, still signs in.
    for (const api of APIS) expect(await signIn(api, victims[api].email, PASSWORD, '198.51.100.100')).toBe('OK');
  });
});
