import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { PASSWORD, uniqueEmail } from './support/client.js';
import { artifactPath, useChromium } from './support/browser.js';
import { useTestServer } from './support/server.js';

/** Replaces the text of a GraphiQL (Monaco) editor as a user would: select all, type. */
const OPERATION = '.graphiql-query-editor .monaco-editor';
const HEADERS = '.monaco-editor[data-uri$="-headers.json"]';

async function setEditor(page: Page, editor: string, text: string): Promise<void> {
  await page.locator(editor).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // insertText types the text in one go, without Monaco's auto-closing of brackets and quotes.
  await page.keyboard.insertText(text);
  await page.keyboard.press('Home');
}

const responsePane = (page: Page) => page.locator('.graphiql-response');

describe('GraphiQL at /graphql in Chromium', () => {
  const server = useTestServer();
  const chromium = useChromium();

  it('loads from local assets, registers, and follows sessionRevoked until its own revocation', async () => {
    const page = await chromium.browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.setDefaultTimeout(10_000);
    try {
      await run(page);
    } catch (error) {
      await page.screenshot({ path: artifactPath('graphiql-failure.png') });
      throw error;
    }
  });

  async function run(page: Page): Promise<void> {
    const elsewhere: string[] = [];
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(server.url) && !url.startsWith('blob:') && !url.startsWith('data:')) elsewhere.push(url);
    });
    const refused: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) refused.push(`${response.status()} ${response.url()}`);
    });

    // The schema loads (its introspection passes the document limits): the docs explorer lists the types.
    const introspection = page.waitForResponse((r) => r.url().startsWith(server.graphqlUrl) && r.request().method() === 'POST');
    await page.goto(server.graphqlUrl);
    expect((await introspection).status()).toBe(200);
    await page.locator(OPERATION).waitFor();

    const email = uniqueEmail('graphiql');
    await setEditor(
      page,
      OPERATION,
      `mutation { register(input: { name: "Ada", email: "${email}", password: "${PASSWORD}", deviceInfo: "GraphiQL" }) { token session { id current } } }`,
    );
    const registered = page.waitForResponse((r) => r.request().postData()?.includes('register') === true);
    await page.click('.graphiql-execute-button');
    const body = (await (await registered).json()) as { data: { register: { token: string; session: { id: string } } } };
    const { token, session } = body.data.register;
    await responsePane(page).getByText(session.id).waitFor();

    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    await setEditor(page, HEADERS, `{ "Authorization": "Bearer ${token}" }`);

    await setEditor(page, OPERATION, 'subscription { sessionRevoked { sessionId reason current } }');
    const subscribed = page.waitForResponse((r) => r.request().headers()['accept']?.includes('text/event-stream') === true);
    await page.click('.graphiql-execute-button');
    // Answered 200 once the token was checked: any revocation from here on is delivered.
    expect((await subscribed).status()).toBe(200);
    const executeLabel = () => page.locator('.graphiql-execute-button').getAttribute('aria-label');
    expect(await executeLabel()).not.toMatch(/^Execute/);

    const logout = await fetch(`${server.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(logout.status).toBe(200);

    await responsePane(page).getByText('"LOGOUT"').waitFor();
    await responsePane(page).getByText(session.id).waitFor();
    // The stream ended after its own revocation: the button is back to "Execute".
    await page.waitForFunction(() => document.querySelector('.graphiql-execute-button')?.getAttribute('aria-label')?.startsWith('Execute'));
    await page.screenshot({ path: artifactPath('graphiql-session-revoked.png') });

    expect(elsewhere).toEqual([]);
    expect(refused).toEqual([]);
  }
});
