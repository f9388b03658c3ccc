import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { errorCodes, loginUser, NEW_PASSWORD, PASSWORD, registerUser, uniqueEmail } from './support/client.js';
import { artifactPath, useChromium } from './support/browser.js';
import { LogoutDocument, MeDocument } from './support/operations.js';
import { devicesPages } from './support/devices-page.js';
import { useTestServer } from './support/server.js';

/**
 * /devices in Chromium (issue 20 §4, §5): renaming a device in place, the new-sign-in
 * alert's "This wasn't me", and the page on a phone-sized screen. Browser contexts are
 * devices of one account, as in test/devices-page.test.ts.
 */
describe('device names and "This wasn\'t me" on /devices, in Chromium', () => {
  const server = useTestServer();
  const chromium = useChromium();

  const pages = devicesPages(() => server.url, chromium);
  const device = pages.open;

  /** Signs in, and waits until every subscription of the page is answered: later events all reach it. */
  async function signIn(page: Page, email: string, deviceName: string): Promise<void> {
    await pages.signIn(page, email, deviceName);
    await page.locator('#live[data-live=true]').waitFor();
    await page.locator('#sign-in-alert[data-live=true]').waitFor({ state: 'attached' });
    await page.locator('#sessions[data-live=true]').waitFor({ state: 'attached' });
  }

  const names = (page: Page): Promise<string[]> =>
    page.locator('#sessions tr .device-name').evaluateAll((spans) => spans.map((span) => span.textContent ?? ''));

  it('renames a device in place, and every other open page shows the new name at once', async () => {
    const account = await registerUser(server.graphqlUrl, { email: uniqueEmail('names'), deviceInfo: 'API client' });
    const laptop = await device();
    const phone = await device();
    await signIn(laptop, account.email, 'Laptop');
    await signIn(phone, account.email, 'Phone');

    // The laptop renames the phone: a field in the phone's row, then the name.
    const phoneId = await phone.locator('#sessions tr', { hasText: 'this device' }).getAttribute('data-session-id');
    const row = laptop.locator(`#sessions tr[data-session-id="${phoneId}"]`);
    await row.locator('.device-name', { hasText: 'Phone' }).waitFor();
    await row.getByRole('button', { name: 'Rename' }).click();
    const field = row.locator('form.rename input[name=deviceInfo]');
    expect(await field.inputValue()).toBe('Phone');
    await field.fill('Ada’s old phone');
    await row.getByRole('button', { name: 'Save' }).click();
    await laptop.locator('#sessions tr .device-name', { hasText: 'Ada’s old phone' }).waitFor();
    expect(await laptop.locator('form.rename').count()).toBe(0);

    // The phone's own page, untouched, shows it live.
    await phone.locator('#sessions tr', { hasText: 'this device' }).locator('.device-name', { hasText: 'Ada’s old phone' }).waitFor();
    expect(await names(phone)).toEqual(['Ada’s old phone', 'Laptop', 'API client']);

    // A name the server refuses: one message, and the row keeps its name.
    const own = phone.locator(`#sessions tr[data-session-id="${phoneId}"]`);
    await own.getByRole('button', { name: 'Rename' }).click();
    await own.locator('form.rename input').fill('   ');
    await own.getByRole('button', { name: 'Save' }).click();
    await phone.locator('#notice', { hasText: 'deviceInfo' }).waitFor();
    await own.getByRole('button', { name: 'Cancel' }).click();
    expect(await names(phone)).toEqual(['Ada’s old phone', 'Laptop', 'API client']);
  });

  it('"This wasn\'t me" signs that device out, records it as reported, and opens the password form', async () => {
    const account = await registerUser(server.graphqlUrl, { email: uniqueEmail('notme'), deviceInfo: 'API client' });
    const phone = await device();
    await signIn(phone, account.email, 'Phone');

    const intruder = await loginUser(server.graphqlUrl, { email: account.email, password: PASSWORD, deviceInfo: 'Unknown PC' });
    const alert = phone.locator('#sign-in-alert');
    await alert.locator('p', { hasText: 'New sign-in: Unknown PC from 127.0.0.1' }).waitFor();
    // What the button acts on came with the event.
    expect(await alert.getAttribute('data-session-id')).toBe(intruder.session.id);

    await alert.getByRole('button', { name: "This wasn't me" }).click();
    await phone.locator('#change-password').waitFor({ state: 'visible' });
    expect(await phone.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('currentPassword');
    await alert.waitFor({ state: 'hidden' });
    expect(await errorCodes(server.graphqlUrl, MeDocument, {}, intruder.token)).toEqual(['UNAUTHENTICATED']);
    await phone.locator('#sessions tr', { hasText: 'Unknown PC' }).waitFor({ state: 'detached' });
    // The timeline names the reported device, and the one that reported it.
    await phone.locator('#activity li[data-type=SESSION_REPORTED]', { hasText: 'Unknown PC' }).waitFor();
    expect(await phone.locator('#activity li[data-type=SESSION_REPORTED]').textContent()).toContain('(Phone, 127.0.0.1)');

    await phone.fill('#change-password input[name=currentPassword]', PASSWORD);
    await phone.fill('#change-password input[name=newPassword]', NEW_PASSWORD);
    await phone.click('#change-password button[type=submit]');
    await phone.locator('#notice', { hasText: 'Password changed' }).waitFor();
    expect(await phone.isHidden('#change-password')).toBe(true);
  });

  it('takes the alert away when that sign-in ends, and names the device a revocation signed out', async () => {
    const account = await registerUser(server.graphqlUrl, { email: uniqueEmail('alert'), deviceInfo: 'API client' });
    const phone = await device();
    await signIn(phone, account.email, 'Phone');

    const tablet = await loginUser(server.graphqlUrl, { email: account.email, password: PASSWORD, deviceInfo: 'Tablet' });
    await phone.locator('#sign-in-alert', { hasText: 'New sign-in: Tablet' }).waitFor();
    // The tablet signs itself out: nothing is left to report.
    expect(await errorCodes(server.graphqlUrl, LogoutDocument, {}, tablet.token)).toEqual([]);
    await phone.locator('#sign-in-alert').waitFor({ state: 'hidden' });
    await phone.locator('#sessions tr', { hasText: 'Tablet' }).waitFor({ state: 'detached' });

    // Another sign-in, signed out from the phone's list: the timeline says which device.
    await loginUser(server.graphqlUrl, { email: account.email, password: PASSWORD, deviceInfo: 'Old laptop' });
    await phone.locator('#sign-in-alert', { hasText: 'New sign-in: Old laptop' }).waitFor();
    await phone.locator('#sessions tr', { hasText: 'Old laptop' }).getByRole('button', { name: 'Sign out' }).click();
    await phone.locator('#sign-in-alert').waitFor({ state: 'hidden' });
    await phone.locator('#activity li[data-type=SESSION_REVOKED]', { hasText: 'Signed a device out: Old laptop (Phone' }).waitFor();
  });

  it('fits a 390 px wide screen: no button overflows or wraps, the live dot sits with its word', async () => {
    const account = await registerUser(server.graphqlUrl, { email: uniqueEmail('narrow'), deviceInfo: 'Work laptop running Firefox 133 on Linux' });
    const phone = await device({ width: 390, height: 844 });
    await signIn(phone, account.email, 'Phone');
    await loginUser(server.graphqlUrl, { email: account.email, password: PASSWORD, deviceInfo: 'Tablet' });
    await phone.locator('#sign-in-alert', { hasText: 'New sign-in: Tablet' }).waitFor();
    await phone.locator('#sessions tr', { hasText: 'Tablet' }).waitFor();
    await phone.locator('#sessions tr', { hasText: 'this device' }).getByRole('button', { name: 'Rename' }).click();
    await phone.screenshot({ path: artifactPath('devices-390.png'), fullPage: true });

    const layout = await phone.evaluate(() => {
      const box = (element: Element) => element.getBoundingClientRect();
      const buttons = [...document.querySelectorAll('button')]
        .filter((b) => b.offsetParent !== null)
        .map((b) => {
          const style = getComputedStyle(b);
          const content = b.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
          const { left, right } = box(b);
          return { text: b.textContent, left, right, lines: Math.round(content / parseFloat(style.lineHeight)) };
        });
      const dot = box(document.querySelector('#live .live-dot')!);
      const label = box(document.querySelector('#live .live-label')!);
      return { width: document.documentElement.clientWidth, scrollWidth: document.documentElement.scrollWidth, buttons, dot, label };
    });
    // Nothing is wider than the screen.
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.width);
    expect(layout.buttons.length).toBeGreaterThanOrEqual(8);
    for (const button of layout.buttons) {
      expect(button.left, `${button.text} starts on screen`).toBeGreaterThanOrEqual(0);
      expect(button.right, `${button.text} ends on screen`).toBeLessThanOrEqual(layout.width);
      expect(button.lines, `${button.text} on one line`).toBe(1);
    }
    // The dot is on its word's line, just before it.
    expect(Math.abs(layout.dot.top + layout.dot.height / 2 - (layout.label.top + layout.label.height / 2))).toBeLessThan(layout.label.height / 2);
    expect(layout.dot.right).toBeLessThanOrEqual(layout.label.left);
    expect(layout.label.left - layout.dot.right).toBeLessThan(12);
  });
});
