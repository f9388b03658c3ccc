import { domainToASCII } from 'node:url';
import { badInput } from '../errors.js';

/**
 * The input rules of docs/contract.md, in the one place both APIs call. Every check
 * starts with the type: REST bodies are arbitrary JSON, and an object where a
 * string belongs (`{"$ne": null}`) must stop here, before any database call.
 */

export interface RegisterInput {
  name: string;
  email: string;
  password: string;
  deviceInfo?: string | undefined;
}

export interface LoginInput {
  email: string;
  password: string;
  deviceInfo?: string | undefined;
}

// C0/C1 control characters: never meaningful in a name, an address or a device label.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// Bidi embeddings, overrides and isolates (LRE…RLO, LRI…PDI): they make a label
// display as something else ("gpj.exe" shown as "exe.jpg"). Plain RTL text needs none of them.
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;
// Characters that print as nothing: a value made only of them (and spaces) is empty to a reader.
const INVISIBLE = /[\s\u200b-\u200f\u2060-\u2064\u180e\ufeff\u00ad\u061c]/gu;
// A surrogate half without its other half: a JS string can hold one, UTF-8 cannot encode it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the mail server's call.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/**
 * The one length rule: characters are Unicode code points, as docs/contract.md counts
 * them ("100 chars" is 100 emoji). The mongoose schemas check the same limits
 * with the same function (src/models), so input that passes here is stored.
 */
export const codePointLength = (s: string): number => {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
};
const length = codePointLength;

/**
 * The input rules' limits, in code points: the one table the validators, the
 * models (maxCodePoints), the OpenAPI document and the docs take them from.
 */
export const MAX_LENGTH = { email: 254, name: 100, password: 128, deviceInfo: 200, userAgent: 1000 } as const;
export const MIN_LENGTH = { name: 1, password: 8 } as const;
/** A page of the security timeline: `first` (GraphQL) or `limit` (REST). */
export const TIMELINE_PAGE = { default: 20, max: 100 } as const;

/** A mongoose validator for the same rule, so the schema never disagrees with the API. */
export const maxCodePoints = (max: number) => ({
  validator: (value: unknown): boolean => typeof value !== 'string' || codePointLength(value) <= max,
  message: `{PATH} must be at most ${max} characters`,
});

/** Cuts a string to `max` code points without splitting a surrogate pair. */
export function truncateCodePoints(s: string, max: number): string {
  if (s.length <= max) return s;
  return [...s].slice(0, max).join('');
}

/**
 * Refuses text a person would be misled by: lone surrogates (not encodable as
 * UTF-8, the same refusal a REST body with invalid UTF-8 gets), bidi
 * overrides, and values that are nothing but invisible characters.
 */
function requireDisplayable(value: string, field: string): void {
  if (LONE_SURROGATE.test(value)) throw badInput(field, `${field} must be valid UTF-8 text`);
  if (CONTROL_CHARS.test(value)) throw badInput(field, `${field} must not contain control characters`);
  if (BIDI_CONTROLS.test(value)) throw badInput(field, `${field} must not contain bidirectional override characters`);
  if (value.length > 0 && value.replace(INVISIBLE, '') === '') throw badInput(field, `${field} must contain visible characters`);
}

/**
 * One spelling per address: NFC (so a composed and a decomposed "é" are the
 * same account), lower case, and an internationalised domain in its ASCII
 * (punycode) form, so "bücher.example" and "xn--bcher-kva.example" are one.
 * Returns null when the domain cannot be written in ASCII.
 */
function normalizeEmail(raw: string): string | null {
  const email = raw.trim().normalize('NFC').toLowerCase();
  const at = email.lastIndexOf('@');
  if (at < 0) return email;
  const domain = domainToASCII(email.slice(at + 1));
  return domain === '' ? null : `${email.slice(0, at)}@${domain.toLowerCase()}`;
}

function requireString(value: unknown, field: string): string {
  if (value === undefined || value === null) throw badInput(field, `${field} is required`);
  if (typeof value !== 'string') throw badInput(field, `${field} must be a string`);
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  return requireString(value, field);
}

export function validateEmail(value: unknown): string {
  const raw = requireString(value, 'email');
  if (raw.trim().length === 0) throw badInput('email', 'email is required');
  const invalid = () => badInput('email', `email must be a valid address of at most ${MAX_LENGTH.email} characters`);
  if (LONE_SURROGATE.test(raw) || CONTROL_CHARS.test(raw) || BIDI_CONTROLS.test(raw)) throw invalid();
  const email = normalizeEmail(raw);
  if (email === null || length(email) > MAX_LENGTH.email || !EMAIL.test(email) || length(email.slice(0, email.lastIndexOf('@'))) > 64) {
    throw invalid();
  }
  return email;
}

export function validateName(value: unknown): string {
  const name = requireString(value, 'name').trim();
  if (length(name) < MIN_LENGTH.name || length(name) > MAX_LENGTH.name) {
    throw badInput('name', `name must be ${MIN_LENGTH.name} to ${MAX_LENGTH.name} characters`);
  }
  requireDisplayable(name, 'name');
  return name;
}

const PASSWORD_RULE = (field: string): string => `${field} must be ${MIN_LENGTH.password} to ${MAX_LENGTH.password} characters`;

/** A password being set (register, changePassword's new one). */
export function validatePassword(value: unknown, field = 'password'): string {
  const password = requireString(value, field);
  const n = length(password);
  if (n < MIN_LENGTH.password || n > MAX_LENGTH.password) throw badInput(field, PASSWORD_RULE(field));
  return password;
}

/**
 * A password being checked: only its shape, so that a password stored under
 * older rules is still accepted.
 */
export function validateCurrentPassword(value: unknown, field = 'password'): string {
  const password = requireString(value, field);
  if (password.length === 0) throw badInput(field, `${field} is required`);
  if (length(password) > MAX_LENGTH.password) throw badInput(field, PASSWORD_RULE(field));
  return password;
}

export function validateDeviceInfo(value: unknown): string | undefined {
  const raw = optionalString(value, 'deviceInfo');
  if (raw === undefined) return undefined;
  const deviceInfo = raw.trim();
  if (length(deviceInfo) > MAX_LENGTH.deviceInfo) {
    throw badInput('deviceInfo', `deviceInfo must be at most ${MAX_LENGTH.deviceInfo} characters`);
  }
  requireDisplayable(deviceInfo, 'deviceInfo');
  return deviceInfo === '' ? undefined : deviceInfo;
}

function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badInput(field, `${field} must be an object`);
  }
  return value as Record<string, unknown>;
}

export function validateRegisterInput(value: unknown): RegisterInput {
  const input = requireObject(value, 'input');
  return {
    name: validateName(input.name),
    email: validateEmail(input.email),
    password: validatePassword(input.password),
    deviceInfo: validateDeviceInfo(input.deviceInfo),
  };
}

export function validateLoginInput(value: unknown): LoginInput {
  const input = requireObject(value, 'input');
  const password = validateCurrentPassword(input.password);
  return { email: validateEmail(input.email), password, deviceInfo: validateDeviceInfo(input.deviceInfo) };
}

export function validateOptionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badInput(field, `${field} must be true or false`);
  return value;
}

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Session ids are UUIDs; anything else cannot name a session. */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}

export function validateSessionId(value: unknown): string {
  const id = requireString(value, 'id');
  if (!isSessionId(id)) throw badInput('id', 'id must be a session id');
  return id;
}
