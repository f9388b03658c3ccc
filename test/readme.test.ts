import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { gql } from './support/client.js';
import { useTestServer } from './support/server.js';

const run = promisify(execFile);
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
const PRINTED_HOST = 'http://localhost:3001';

/** The contents of a markdown text's fenced blocks of one language. */
const blocks = (markdown: string, language: string): string[] =>
  [...markdown.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');

/** A ```graphql block's operations, each under its `#` comment. */
const operations = (block: string): string[] =>
  block
    .split(/^#.*$/m)
    .map((text) => text.trim())
    .filter((text) => text !== '');

/** The commands of ```bash blocks: continuation lines joined, comments dropped. */
const commands = (markdown: string): string[] =>
  blocks(markdown, 'bash').flatMap((block) =>
    block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );

type Data = Record<string, unknown>;

describe('the README', () => {
  const server = useTestServer();

  it('names the two commands as npm scripts that exist', () => {
    const lines = commands(README).filter((line) => line.startsWith('npm '));
    expect(lines).toEqual(['npm install && npm run dev', 'npm test']);
    expect(PACKAGE.scripts.dev).toBeDefined();
    expect(PACKAGE.scripts.test).toBeDefined();
  });

  it('shows a GraphQL example and a curl example that work as printed, in order', async () => {
    const graphqlBlocks = blocks(README, 'graphql');
    expect(graphqlBlocks).toHaveLength(1);
    const [register, sessions, logoutAll, ...rest] = operations(graphqlBlocks[0]!);
    expect(rest).toEqual([]);
    const send = async (operation: string, token?: string): Promise<Data> => {
      const result = await gql(server.graphqlUrl, parse(operation) as TypedDocumentNode<Data, Record<string, never>>, undefined, { token });
      expect(result.errors, operation).toBeUndefined();
      return result.data!;
    };

    // register, then the token goes in the Headers pane for the other two.
    const registered = (await send(register!)).register as { token: string; session: { id: string; deviceInfo: string; current: boolean } };
    expect(registered.session).toMatchObject({ deviceInfo: 'laptop', current: true });
    const { token } = registered;
    const listed = async (): Promise<Array<{ id: string; deviceInfo: string; current: boolean }>> =>
      (await send(sessions!, token)).sessions as Array<{ id: string; deviceInfo: string; current: boolean }>;
    expect(await listed()).toEqual([expect.objectContaining({ id: registered.session.id, current: true })]);
    expect((await send(logoutAll!, token)).logoutAll).toEqual({ revokedCount: 0, revokedSessionIds: [] });

    // The curl example signs Ada in from a terminal: a second device, which the sessions query lists.
    const curls = commands(README).filter((line) => line.startsWith('curl '));
    expect(curls).toHaveLength(2);
    const line = curls[0]!.replaceAll(PRINTED_HOST, server.url);
    const { stdout } = await run('bash', ['-c', `${line} -sS -w '\\n%{http_code}'`]);
    const cut = stdout.lastIndexOf('\n');
    expect(stdout.slice(cut + 1)).toBe('200');
    const signedIn = JSON.parse(stdout.slice(0, cut)) as { token: string; refreshToken: string; session: { id: string; deviceInfo: string } };
    expect(signedIn).toMatchObject({ token: expect.any(String), refreshToken: expect.any(String), session: { deviceInfo: 'terminal' } });

    // The refresh example spends the terminal's refresh token: a new pair for the same session.
    const refreshLine = curls[1]!.replaceAll(PRINTED_HOST, server.url).replaceAll('YOUR_REFRESH_TOKEN', signedIn.refreshToken);
    const refreshed = await run('bash', ['-c', `${refreshLine} -sS -w '\\n%{http_code}'`]);
    const end = refreshed.stdout.lastIndexOf('\n');
    expect(refreshed.stdout.slice(end + 1)).toBe('200');
    expect(JSON.parse(refreshed.stdout.slice(0, end))).toMatchObject({ refreshToken: expect.any(String), session: { id: signedIn.session.id } });
    expect((await listed()).map((s) => [s.deviceInfo, s.current])).toEqual([
      ['terminal', false],
      ['laptop', true],
    ]);

    // And logoutAll now signs that device out.
    expect((await send(logoutAll!, token)).logoutAll).toEqual({ revokedCount: 1, revokedSessionIds: [signedIn.session.id] });
    expect((await listed()).map((s) => s.deviceInfo)).toEqual(['laptop']);
  });
});
