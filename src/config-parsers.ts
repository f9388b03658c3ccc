import { readFileSync } from 'node:fs';

/**
 * How the text of each kind of setting is read (src/config.ts holds the table
 * of settings): a value, or an Invalid naming what is wrong with it.
 */

/** REDIS_CLUSTER_NODES: where to find the cluster, and how to talk to every node of it. */
export interface RedisClusterConfig {
  /** Some of the cluster's nodes (any will do): the rest are found from them. */
  nodes: Array<{ host: string; port: number }>;
  /** rediss:// entries: TLS to every node. */
  tls: boolean;
  username: string | undefined;
  password: string | undefined;
}

export const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses `7d`, `12h`, `30m`, `45s` or a plain number of seconds. */
export function parseDurationSeconds(value: string): number | null {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) return null;
  const seconds = Number(match[1]) * (DURATION_UNITS[match[2] || 's'] ?? 1);
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : null;
}

export function parseInteger(value: string, min: number, max: number): number | null {
  if (!/^\d+$/.test(value.trim())) return null;
  const n = Number(value);
  return n >= min && n <= max ? n : null;
}

export function isUrlWithScheme(value: string, schemes: string[]): boolean {
  try {
    const url = new URL(value);
    return schemes.includes(url.protocol) && url.host.length > 0;
  } catch {
    return false;
  }
}

/** What is wrong with a variable's text, reported as "NAME: reason". */
export class Invalid {
  constructor(readonly reason: string) {}
}

export const integer =
  (min: number, max: number, unit = '') =>
  (raw: string): number | Invalid =>
    parseInteger(raw, min, max) ?? new Invalid(`must be a whole number${unit} from ${min} to ${max} (got "${raw}")`);

export const duration =
  (examples: string) =>
  (raw: string): number | Invalid =>
    parseDurationSeconds(raw) ?? new Invalid(`must be a duration such as ${examples} (got "${raw}")`);

export const milliseconds =
  (examples: string) =>
  (raw: string): number | Invalid => {
    const seconds = duration(examples)(raw);
    return seconds instanceof Invalid ? seconds : seconds * 1000;
  };

export const url =
  (schemes: string[], reason: string) =>
  (raw: string): string | Invalid =>
    isUrlWithScheme(raw, schemes) ? raw : new Invalid(reason);

export const oneOf =
  <T extends string>(values: readonly T[], list: string) =>
  (raw: string): T | Invalid =>
    (values as readonly string[]).includes(raw) ? (raw as T) : new Invalid(`must be ${list} (got "${raw}")`);

/** A PEM file of one or more CA certificates, read once at start-up. */
export const pemCertificates = (raw: string): string | Invalid => {
  let text: string;
  try {
    text = readFileSync(raw, 'utf8');
  } catch (error) {
    return new Invalid(`cannot read ${raw} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return text.includes('-----BEGIN CERTIFICATE-----') ? text : new Invalid(`${raw} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
};

export const boolean = (raw: string): boolean | Invalid =>
  /^(1|true|yes)$/i.test(raw) ? true : /^(0|false|no)$/i.test(raw) ? false : new Invalid(`must be true or false (got "${raw}")`);

/** `host:port`, a hostname or IPv4 address or a bracketed IPv6 one. */
export const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

/** One REDIS_CLUSTER_NODES entry: `host:port`, or a redis:// or rediss:// URL with the node's address and maybe credentials. */
export function parseClusterNode(entry: string): { host: string; port: number; tls: boolean; username: string; password: string } | null {
  let address = entry;
  let tls = false;
  let username = '';
  let password = '';
  if (entry.includes('://')) {
    let parsed: URL;
    try {
      parsed = new URL(entry);
    } catch {
      return null;
    }
    if (!['redis:', 'rediss:'].includes(parsed.protocol) || !parsed.port || !['', '/'].includes(parsed.pathname) || parsed.search || parsed.hash) return null;
    address = parsed.host;
    tls = parsed.protocol === 'rediss:';
    username = decodeURIComponent(parsed.username);
    password = decodeURIComponent(parsed.password);
  }
  const match = HOST_PORT.exec(address);
  const port = Number(match?.[2]);
  if (!match?.[1] || !(port >= 1 && port <= 65535)) return null;
  return { host: match[1].replace(/^\[|\]$/g, ''), port, tls, username, password };
}

export function parseClusterNodes(raw: string): RedisClusterConfig | Invalid {
  const entries = raw.split(',').map((e) => e.trim()).filter(Boolean);
  const parsed = entries.map(parseClusterNode);
  const bad = entries.filter((_, i) => parsed[i] === null);
  if (bad.length > 0) return new Invalid(`each node must be host:port, or a redis:// or rediss:// URL with a port (bad: ${bad.join(', ')})`);
  const nodes = parsed.filter((n) => n !== null);
  const [first] = nodes;
  if (!first) return new Invalid('must list at least one node as host:port');
  if (nodes.some((n) => n.tls !== first.tls)) return new Invalid('every node must be rediss:// (TLS) or none');
  if (nodes.some((n) => n.username !== first.username || n.password !== first.password)) return new Invalid('every node must carry the same credentials');
  return {
    nodes: nodes.map(({ host, port }) => ({ host, port })),
    tls: first.tls,
    username: first.username || undefined,
    password: first.password || undefined,
  };
}

/** ADMIN_API_KEYS: comma-separated keys, each long enough that guessing one is hopeless. */
export const adminKeys = (raw: string): readonly string[] | Invalid => {
  const keys = raw.split(',').map((k) => k.trim()).filter(Boolean);
  if (keys.some((k) => k.length < 32)) return new Invalid('each key must be at least 32 characters');
  return keys;
};

/** WEBHOOK_URL: comma-separated http(s) URLs. */
export const webhookUrls = (raw: string): readonly string[] | Invalid => {
  const urls = raw.split(',').map((u) => u.trim()).filter(Boolean);
  const bad = urls.filter((u) => !isUrlWithScheme(u, ['http:', 'https:']));
  return bad.length > 0 ? new Invalid(`each URL must be http:// or https:// (bad: ${bad.join(', ')})`) : urls;
};

/** WEBHOOK_SECRET: `whsec_` and the base64 of at least 24 bytes (Standard Webhooks), as the key itself. */
export const webhookSecret = (raw: string): Buffer | Invalid => {
  const encoded = raw.startsWith('whsec_') ? raw.slice('whsec_'.length) : null;
  if (encoded === null || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return new Invalid('must be whsec_ followed by base64');
  const key = Buffer.from(encoded, 'base64');
  return key.length >= 24 && key.length <= 64 ? key : new Invalid(`must hold 24 to 64 bytes (got ${key.length})`);
};
