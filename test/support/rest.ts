import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { newCredentials, PASSWORD } from './client.js';

/** The REST bodies' shapes, as docs/contract.md gives them (the types of the GraphQL fields they mirror). */
export interface RestUser {
  id: string;
  email: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}
export interface RestSession {
  id: string;
  deviceInfo: string;
  ipAddress: string;
  userAgent: string;
  lastActivity: string;
  createdAt: string;
  expiresAt: string;
  idleExpiresAt: string;
  current: boolean;
}
export interface RestAuth {
  token: string;
  refreshToken: string;
  user: RestUser;
  session: RestSession;
}
export interface RestErrorBody {
  error: { code: string; message: string };
}

/** Status, headers and body (parsed JSON; text for another type; undefined when empty). */
export interface RestReply {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface RestRequest {
  /** Sent as `Authorization: Bearer …`. */
  token?: string | undefined;
  /** Serialised as the JSON body. */
  json?: unknown;
  /** A body sent verbatim (malformed JSON, exact bytes, a chunked stream), declared JSON unless `headers` say otherwise. */
  body?: string | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
  /** Aborts the request (fetch only): a test that must not wait forever for an answer. */
  signal?: AbortSignal;
}

/** Where the server is: its URL, or an object whose `url` is read at call time (useTestServer's fixture). */
export type ServerAddress = string | { readonly url: string };
export const urlOf = (server: ServerAddress): string => (typeof server === 'string' ? server : server.url);

export interface RestClient {
  call(method: string, path: string, request?: RestRequest): Promise<RestReply>;
  get(path: string, request?: RestRequest): Promise<RestReply>;
  post(path: string, request?: RestRequest): Promise<RestReply>;
  delete(path: string, request?: RestRequest): Promise<RestReply>;
  /** POST /api/auth/register with fresh credentials (overridable); fails the test unless 201. */
  register(fields?: Record<string, unknown>, request?: Pick<RestRequest, 'headers'>): Promise<RestAuth & { email: string; password: string }>;
  /** POST /api/auth/login (the common password unless given); fails the test unless 200. */
  login(fields: { email: string; password?: string; deviceInfo?: string }): Promise<RestAuth>;
}

const run = promisify(execFile);

function requestHeaders(request: RestRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  if (request.json !== undefined || request.body !== undefined) headers['content-type'] = 'application/json';
  return { ...headers, ...request.headers };
}

function parseBody(text: string, headers: Headers): unknown {
  if (text === '') return undefined;
  return /^application\/(.+\+)?json/.test(headers.get('content-type') ?? '') ? (JSON.parse(text) as unknown) : text;
}

async function viaFetch(url: string, method: string, request: RestRequest): Promise<RestReply> {
  const body = request.json !== undefined ? JSON.stringify(request.json) : request.body;
  // `duplex` is what Node's fetch needs to stream a request body.
  const init = { method, headers: requestHeaders(request), body, duplex: 'half', signal: request.signal } as RequestInit;
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: parseBody(await response.text(), response.headers) };
}

/** The same request with the curl command line, as docs/rest.md prints it: status line and headers, then the body. */
async function viaCurl(url: string, method: string, request: RestRequest): Promise<RestReply> {
  if (request.body !== undefined && typeof request.body !== 'string') throw new Error('curl sends string bodies only');
  const args = ['-sS', '-D', '-', '-X', method, url];
  for (const [name, value] of Object.entries(requestHeaders(request))) args.push('-H', `${name}: ${value}`);
  const body = request.json !== undefined ? JSON.stringify(request.json) : request.body;
  if (body !== undefined) args.push('--data-raw', body);
  const { stdout } = await run('curl', args);
  const end = stdout.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = stdout.slice(0, end).split('\r\n');
  const headers = new Headers(lines.map((line): [string, string] => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: parseBody(stdout.slice(end + 4), headers) };
}

/**
 * One REST client for every test: JSON in and out, a token if given. `via:
 * 'curl'` sends the same requests with curl (docs/rest.md's examples), for the
 * tests that prove those.
 */
export function restClient(server: ServerAddress, options: { via?: 'fetch' | 'curl' } = {}): RestClient {
  const send = options.via === 'curl' ? viaCurl : viaFetch;
  const call = (method: string, path: string, request: RestRequest = {}): Promise<RestReply> =>
    send(`${urlOf(server)}${path}`, method, request);
  return {
    call,
    get: (path, request) => call('GET', path, request),
    post: (path, request) => call('POST', path, request),
    delete: (path, request) => call('DELETE', path, request),
    async register(fields = {}, request = {}) {
      const credentials = newCredentials('rest');
      const input = { name: 'Rest User', ...credentials, ...fields };
      const reply = await call('POST', '/api/auth/register', { ...request, json: input });
      expect(reply.status, JSON.stringify(reply.body)).toBe(201);
      return { ...(reply.body as RestAuth), email: String(input.email), password: String(input.password) };
    },
    async login(fields) {
      const reply = await call('POST', '/api/auth/login', { json: { password: PASSWORD, ...fields } });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      return reply.body as RestAuth;
    },
  };
}

/** The error body `{"error": {"code", "message"}}` with this code, whatever the message (where it is not stable). */
export const restError = (code: string): RestErrorBody => ({ error: { code, message: expect.any(String) as string } });

/** An error reply: this status, a JSON type, and exactly `{"error": {"code", "message"}}` with this code. */
export function expectRestError(reply: RestReply, status: number, code: string): RestErrorBody {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.body).toEqual(restError(code));
  return reply.body as RestErrorBody;
}

/** Status and body without the headers: what an inline snapshot of a whole reply should hold. */
export const statusAndBody = (reply: RestReply): { status: number; body: unknown } => ({ status: reply.status, body: reply.body });
