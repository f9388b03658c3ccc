/**
 * The client side of the benchmarks that drive server instances over plain
 * HTTP (bench/revocation-scale.ts, bench/many-users.ts): accounts, sign-ins,
 * event-stream requests of both APIs, and the figures they print.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Instance } from './instances.js';

export const PASSWORD = 'bench-password-1';
/** How many set-up requests are in flight at once. */
const CONCURRENCY = 32;

export async function postJson<T>(url: string, body: unknown, token?: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** What register and login answer. */
export interface Auth {
  token: string;
  user: { id: string };
  session: { id: string };
}

/** `make(i)` for i below `count`, CONCURRENCY at a time; the results in order. */
export async function inBatches<T>(count: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await make(i);
      }
    }),
  );
  return out;
}

export async function register(instance: Instance, email: string): Promise<Auth> {
  const { status, body } = await postJson<Auth>(`${instance.url}/api/auth/register`, { name: 'Bench', email, password: PASSWORD });
  if (status !== 201) throw new Error(`register: ${status} ${JSON.stringify(body)}`);
  return body;
}

export async function login(instance: Instance, email: string): Promise<Auth> {
  const { status, body } = await postJson<Auth>(`${instance.url}/api/auth/login`, { email, password: PASSWORD });
  if (status !== 200) throw new Error(`login: ${status} ${JSON.stringify(body)}`);
  return body;
}

export type StreamApi = 'rest' | 'graphql';

const SUBSCRIPTION = JSON.stringify({ query: 'subscription { sessionRevoked { sessionId reason revokedAt current } }' });

/**
 * One event stream, sent: REST `GET /api/auth/events`, or the GraphQL
 * `sessionRevoked` subscription over SSE (`POST /graphql`,
 * `accept: text/event-stream`). Its own connection (`agent: false`), as a
 * device has. The caller listens for `response` and `error`.
 */
export function openStreamRequest(instance: Instance, api: StreamApi, token: string): ClientRequest {
  const req = httpRequest({
    host: '127.0.0.1',
    port: instance.port,
    method: api === 'rest' ? 'GET' : 'POST',
    path: api === 'rest' ? '/api/auth/events' : '/graphql',
    agent: false,
    headers: {
      accept: 'text/event-stream',
      authorization: `Bearer ${token}`,
      ...(api === 'graphql' ? { 'content-type': 'application/json' } : {}),
    },
  });
  if (api === 'graphql') req.end(SUBSCRIPTION);
  else req.end();
  return req;
}

/** Set-up steps, timed on stderr (where a slow run spends its time). */
export async function phase<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await work();
  console.error(`  set-up: ${label} in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return result;
}

/** The q-quantile of an ascending list (NaN when empty). */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

export const ms = (n: number): string => `${n.toFixed(0)} ms`;
