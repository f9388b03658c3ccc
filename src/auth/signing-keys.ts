import { createHash, createHmac, createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * JWT_ALGORITHM: one per deployment. HS256 signs with JWT_SECRET, which every
 * verifier must hold; ES256 (P-256) and EdDSA (Ed25519) sign with
 * JWT_PRIVATE_KEY and publish the public keys (GET /.well-known/jwks.json), so
 * other services can verify tokens without any secret of ours.
 */
export const JWT_ALGORITHMS = ['HS256', 'ES256', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
export type AsymmetricAlgorithm = Exclude<JwtAlgorithm, 'HS256'>;

/** A public key as JWKS publishes it (RFC 7517), with the fields the contract names. */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y?: string;
  kid: string;
  alg: AsymmetricAlgorithm;
  use: 'sig';
}

/** The key material of a deployment, as the configuration gives it. */
export interface KeyConfig {
  jwtAlgorithm: JwtAlgorithm;
  jwtSecret: string;
  jwtPrivateKey: KeyObject | undefined;
  jwtPreviousPublicKeys: readonly KeyObject[];
}

/** What signs new tokens and what verifies them: built once per process (src/services.ts). */
export interface SigningKeys {
  algorithm: JwtAlgorithm;
  /** The key new tokens are signed with, and its `kid` (none for HS256: nobody else looks it up). */
  signing: { key: KeyObject; kid: string | undefined };
  /** `kid` → public key: the current key's, then each listed in JWT_PREVIOUS_PUBLIC_KEYS. Empty for HS256. */
  verifying: ReadonlyMap<string, KeyObject>;
  /** The body of GET /.well-known/jwks.json: the same keys, as JWKs (`{"keys": []}` for HS256). */
  jwks: { keys: PublicJwk[] };
}

/** What each algorithm needs of a key, and how to say it when a key is something else. */
const KEY_KINDS: Record<AsymmetricAlgorithm, { type: string; curve?: string; needs: string }> = {
  ES256: { type: 'ec', curve: 'prime256v1', needs: 'an EC P-256 key' },
  EdDSA: { type: 'ed25519', needs: 'an Ed25519 key' },
};

/** Names a key's kind in an error: `ec P-384`, `rsa`, `ed448`. */
function kindOf(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve ? `${key.asymmetricKeyType} ${curve === 'prime256v1' ? 'P-256' : curve}` : String(key.asymmetricKeyType);
}

/** Why `key` cannot be used with `algorithm`, or null when it can. */
function mismatch(key: KeyObject, algorithm: AsymmetricAlgorithm): string | null {
  const kind = KEY_KINDS[algorithm];
  const fits = key.asymmetricKeyType === kind.type && (kind.curve === undefined || key.asymmetricKeyDetails?.namedCurve === kind.curve);
  return fits ? null : `is an ${kindOf(key)} key; JWT_ALGORITHM=${algorithm} needs ${kind.needs}`;
}

/** Env files often hold a PEM on one line with `\n` escapes: both spellings are read. */
const unescapeNewlines = (raw: string): string => raw.replace(/\\n/g, '\n');

/**
 * JWT_PRIVATE_KEY: one PEM private key (PKCS#8 `PRIVATE KEY`, or SEC1 `EC PRIVATE KEY`) of the
 * algorithm's kind (`any`: JWT_ALGORITHM is itself wrong, and reported; the key's form only).
 */
export function parsePrivateKey(raw: string, algorithm: JwtAlgorithm | 'any'): KeyObject | string {
  if (algorithm === 'HS256') return 'is not used with JWT_ALGORITHM=HS256 (set JWT_ALGORITHM=ES256 or EdDSA, or unset it)';
  const pem = unescapeNewlines(raw);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) return 'must be a PEM private key (-----BEGIN PRIVATE KEY-----)';
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return 'cannot be read as a PEM private key (unencrypted PKCS#8 or SEC1)';
  }
  return (algorithm === 'any' ? null : mismatch(key, algorithm)) ?? key;
}

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * JWT_PREVIOUS_PUBLIC_KEYS: PEM public keys (SPKI, `-----BEGIN PUBLIC KEY-----`)
 * one after the other, in one value; anything between the blocks is ignored.
 * A private key is refused: a retired key should not linger where it could sign.
 * (`any`: as for parsePrivateKey.)
 */
export function parsePublicKeys(raw: string, algorithm: JwtAlgorithm | 'any'): KeyObject[] | string {
  if (algorithm === 'HS256') return 'is not used with JWT_ALGORITHM=HS256 (set JWT_ALGORITHM=ES256 or EdDSA, or unset it)';
  const blocks = [...unescapeNewlines(raw).matchAll(PEM_BLOCK)];
  if (blocks.length === 0) return 'must be one or more PEM public keys (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----)';
  const keys: KeyObject[] = [];
  for (const [n, [block, label]] of blocks.entries()) {
    const which = `key ${n + 1} of ${blocks.length}`;
    if (label !== 'PUBLIC KEY') return `${which} is a ${label}, not a PUBLIC KEY (openssl pkey -in old.pem -pubout gives it)`;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: block, format: 'pem' });
    } catch {
      return `${which} cannot be read as a PEM public key`;
    }
    const problem = algorithm === 'any' ? null : mismatch(key, algorithm);
    if (problem) return `${which} ${problem}`;
    keys.push(key);
  }
  return keys;
}

/** A key of the algorithm's kind, for a process started without JWT_PRIVATE_KEY outside production. */
export function generatePrivateKey(algorithm: AsymmetricAlgorithm): KeyObject {
  return algorithm === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : generateKeyPairSync('ed25519').privateKey;
}

/**
 * The server's own secret when tokens are signed with a private key (JWT_SECRET
 * is then not set): derived from that key, so every instance of the deployment
 * has the same (the security timeline's cursors are MACed with it), and no one
 * without the private key can compute it.
 */
export function deriveServerSecret(privateKey: KeyObject): string {
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return createHmac('sha256', der).update('logout-all server secret').digest('base64url');
}

/** The public JWK of `key` (its members only: kty, crv, x, y). */
function publicJwk(key: KeyObject): { kty: string; crv: string; x: string; y?: string } {
  const { kty, crv, x, y } = key.export({ format: 'jwk' });
  return { kty: String(kty), crv: String(crv), x: String(x), ...(y === undefined ? {} : { y: String(y) }) };
}

/**
 * The key's RFC 7638 thumbprint: SHA-256 of its required members in
 * lexicographic order. Any verifier can compute it from the published key, and
 * the same key always gets the same `kid`, whichever instance signs.
 */
export function thumbprint(key: KeyObject): string {
  const { kty, crv, x, y } = publicJwk(key);
  const members = kty === 'EC' ? { crv, kty, x, y } : { crv, kty, x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** The deployment's keys, from its validated configuration (src/config.ts). */
export function createSigningKeys(config: KeyConfig): SigningKeys {
  const algorithm = config.jwtAlgorithm;
  if (algorithm === 'HS256') {
    return {
      algorithm: 'HS256',
      signing: { key: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')), kid: undefined },
      verifying: new Map(),
      jwks: { keys: [] },
    };
  }
  // Never a quiet fall back to HS256: loadConfig gives every other algorithm a key.
  if (config.jwtPrivateKey === undefined) throw new Error(`JWT_ALGORITHM=${algorithm} without a private key`);
  const current = createPublicKey(config.jwtPrivateKey);
  const verifying = new Map<string, KeyObject>();
  // The current key first; a retired key listed twice (or the current one listed) counts once.
  for (const key of [current, ...config.jwtPreviousPublicKeys]) {
    const kid = thumbprint(key);
    if (!verifying.has(kid)) verifying.set(kid, key);
  }
  return {
    algorithm,
    signing: { key: config.jwtPrivateKey, kid: thumbprint(current) },
    verifying,
    jwks: { keys: [...verifying].map(([kid, key]) => ({ ...publicJwk(key), kid, alg: algorithm, use: 'sig' })) },
  };
}
