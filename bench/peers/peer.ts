/**
 * The three peers of bench/throughput.ts, each in its own process, each doing
 * the same authenticated read as `me`: verify the HS256 bearer token with a
 * KeyObject, one Redis GET for the cached profile, answer JSON.
 *
 *   tsx bench/peers/peer.ts http|express|yoga   (PORT, JWT_SECRET, REDIS_URL from the environment)
 */
import { createSecretKey } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import express from 'express';
import { createSchema, createYoga, type YogaInitialContext } from 'graphql-yoga';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';

const kind = process.argv[2];
const port = Number(process.env.PORT);
const key = createSecretKey(Buffer.from(process.env.JWT_SECRET ?? '', 'utf8'));
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

/** The profile of the token's user, or null (bad token, nothing cached). */
async function me(authorization: string | undefined): Promise<unknown> {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : null;
  if (!token) return null;
  let sub: unknown;
  try {
    sub = (jwt.verify(token, key, { algorithms: ['HS256'] }) as jwt.JwtPayload).sub;
  } catch {
    return null;
  }
  const cached = typeof sub === 'string' ? await redis.get(`bench:profile:${sub}`) : null;
  return cached === null ? null : JSON.parse(cached);
}

function listening(): void {
  process.send?.({ ready: port });
}

if (kind === 'http') {
  createServer((req: IncomingMessage, res) => {
    void me(req.headers.authorization).then((user) => {
      res.writeHead(user ? 200 : 401, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(user ? { user } : { error: 'unauthenticated' }));
    });
  }).listen(port, '127.0.0.1', listening);
} else if (kind === 'express') {
  const app = express();
  app.get('/me', async (req, res) => {
    const user = await me(req.headers.authorization);
    if (user) res.json({ user });
    else res.status(401).json({ error: 'unauthenticated' });
  });
  app.listen(port, '127.0.0.1', listening);
} else if (kind === 'yoga') {
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: 'type User { id: ID! email: String! name: String! createdAt: String! updatedAt: String! } type Query { me: User }',
      resolvers: { Query: { me: (_root, _args, ctx: YogaInitialContext) => me(ctx.request.headers.get('authorization') ?? undefined) } },
    }),
    logging: false,
  });
  createServer(yoga).listen(port, '127.0.0.1', listening);
} else {
  console.error('usage: peer.ts http|express|yoga');
  process.exit(2);
}
