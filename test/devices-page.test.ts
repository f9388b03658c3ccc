import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { errorCodes, loginUser, PASSWORD, registerUser, uniqueEmail } from './support/client.js';
import { RevokeSessionDocument } from './support/operations.js';
import { artifactPath, useChromium } from './support/browser.js';
import { devicesPages } from './support/devices-page.js';
import { useTestServer } from './support/server.js';

/**
 * /devices in a real Chromium, two browser contexts as two devices of one
 * account (each has its own storage, so its own token).
 */
describe('the device page (/devices) in Chromium', () => {
  const server = useTestServer();
  const chromium = useChromium();

  const pages = devicesPages(() => server.url, chromium);
  const device = (): Promise<Page> => pages.open();
  const signIn = pages.signIn;

  const rows = (page: Page): Promise<string[]> =>
    page.locator('#sessions tr').evaluateAll((trs) => trs.map((tr) => (tr.firstElementChild?.textContent ?? '').trim()));

  async function signedOutWith(page: Page, message: string): Promise<void> {
    await page.locator('#notice', { hasText: message }).waitFor();
    await page.locator('#sign-in').waitFor({ state: 'visible' });
    expect(await page.isHidden('#account')).toBe(true);
  }

  /** The page says its subscription is live: its token was checked, every later revocation reaches it. */
  async function listening(...pages: Page[]): Promise<void> {
    for (const page of pages) await page.locator('#live[data-live=true]').waitFor();
  }

  it('signs in, lists devices, and signs one, the others, or all out, live on every page', async () => {
    const account = await registerUser(server.graphqlUrl, { name: 'Ada', email: uniqueEmail('ada'), deviceInfo: 'API client' });
    const laptop = await device();
    const phone = await device();

    await laptop.locator('#sign-in').waitFor({ state: 'visible' });
    await laptop.screenshot({ path: artifactPath('devices-sign-in.png') });

    // A wrong password: one message, still on the form.
    await laptop.fill('input[name=email]', account.email);
    await laptop.fill('input[name=password]', 'not the password');
    await laptop.click('button[value=login]');
    await laptop.locator('#form-error', { hasText: /./ }).waitFor();

    await signIn(laptop, account.email, 'Laptop');
    await signIn(phone, account.email, 'Phone');
    await listening(laptop, phone);
    expect(await rows(phone)).toEqual(['Phonethis device', 'Laptop', 'API client']);
    const phoneRow = phone.locator('#sessions tr', { hasText: 'this device' });
    expect(await phoneRow.locator('td').nth(1).textContent()).toBe('127.0.0.1');
    expect(await phoneRow.locator('td').nth(2).textContent()).not.toBe('');
    await phone.screenshot({ path: artifactPath('devices-list.png') });

    // The phone signs the laptop out: the laptop says so at once and shows the form.
    await phone.locator('#sessions tr', { hasText: 'Laptop' }).getByRole('button', { name: 'Sign out' }).click();
    await signedOutWith(laptop, 'signed out from another device');
    await laptop.screenshot({ path: artifactPath('devices-revoked.png') });
    await phone.locator('#sessions tr', { hasText: 'Laptop' }).waitFor({ state: 'detached' });
    expect(await rows(phone)).toEqual(['Phonethis device', 'API client']);

    // Sign out all others, from the phone.
    await signIn(laptop, account.email, 'Laptop');
    await phone.reload();
    await phone.locator('#sessions tr', { hasText: 'Laptop' }).waitFor();
    await listening(laptop, phone);
    await phone.click('#sign-out-others');
    await signedOutWith(laptop, 'sign out everywhere');
    await phone.locator('#sessions tr', { hasText: 'Laptop' }).waitFor({ state: 'detached' });
    expect(await rows(phone)).toEqual(['Phonethis device']);

    // Sign out everywhere, from the laptop: the phone learns it too.
    await signIn(laptop, account.email, 'Laptop');
    await listening(laptop, phone);
    await laptop.click('#sign-out-all');
    await signedOutWith(laptop, 'You signed out on every device');
    await signedOutWith(phone, 'sign out everywhere');

    // Sign this device out, from its own row.
    await signIn(phone, account.email, 'Phone');
    await phone.locator('#sessions tr', { hasText: 'this device' }).getByRole('button', { name: 'Sign out' }).click();
    await signedOutWith(phone, 'You signed out on this device');
    expect(await phone.evaluate(() => localStorage.getItem('logout-all.token'))).toBeNull();
  });

  it("tells of a new sign-in elsewhere at once, and shows the account's recent activity", async () => {
    const account = await registerUser(server.graphqlUrl, { name: 'Grace', email: uniqueEmail('grace'), deviceInfo: 'API client' });
    const phone = await device();
    await signIn(phone, account.email, 'Phone');
    await listening(phone);
    // Its sessionCreated subscription is answered: every later sign-in reaches it.
    await phone.locator('#sign-in-alert[data-live=true]').waitFor({ state: 'attached' });

    await loginUser(server.graphqlUrl, { email: account.email, password: PASSWORD, deviceInfo: 'Tablet' });
    await phone.locator('#sign-in-alert', { hasText: 'New sign-in: Tablet from 127.0.0.1' }).waitFor();
    await phone.locator('#sessions tr', { hasText: 'Tablet' }).waitFor();
    // Newest first: the tablet's sign-in, the phone's, the first one's.
    await phone.locator('#activity li').nth(2).waitFor();
    const activity = await phone.locator('#activity li').evaluateAll((items) => items.map((li) => li.getAttribute('data-type')));
    expect(activity).toEqual(['SIGNED_IN', 'SIGNED_IN', 'SIGNED_IN']);
    expect(await phone.locator('#activity li').first().textContent()).toContain('Signed in (Tablet, 127.0.0.1)');
    await phone.screenshot({ path: artifactPath('devices-activity.png') });
  });
});

describe('the device page with FRESH_AGE set', () => {
  const server = useTestServer({ env: { FRESH_AGE: '1' } });
  const chromium = useChromium();

  it('asks for the password when the server wants a fresh sign-in, then signs the other device out', async () => {
    const account = await registerUser(server.graphqlUrl, { name: 'Lin', email: uniqueEmail('lin'), deviceInfo: 'API client' });
    const phone = await (await chromium.browser.newContext()).newPage();
    await phone.goto(`${server.url}/devices`);
    await phone.fill('input[name=email]', account.email);
    await phone.fill('input[name=password]', PASSWORD);
    await phone.fill('input[name=deviceInfo]', 'Phone');
    await phone.click('button[value=login]');
    await phone.locator('#live[data-live=true]').waitFor();
    const token = (await phone.evaluate(() => localStorage.getItem('logout-all.token')))!;
    // Once the phone's sign-in is older than FRESH_AGE (an unknown id is refused for that before it is looked up).
    await expect.poll(() => errorCodes(server.graphqlUrl, RevokeSessionDocument, { id: randomUUID() }, token), { timeout: 15_000, interval: 250 }).toEqual([
      'REAUTHENTICATION_REQUIRED',
    ]);
    const asked: string[] = [];
    phone.on('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.accept(PASSWORD);
    });
    await phone.click('#sign-out-others');
    await phone.locator('#sessions tr', { hasText: 'API client' }).waitFor({ state: 'detached' });
    expect(asked).toEqual([expect.stringContaining('password')]);
    expect(await phone.locator('#sessions tr').count()).toBe(1);
  });
});
