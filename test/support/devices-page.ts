import type { Page } from 'playwright-core';
import type { useChromium } from './browser.js';
import { PASSWORD } from './client.js';

/** The /devices page as a device opens it: each page its own browser context (its own storage, so its own token). */
export function devicesPages(serverUrl: () => string, chromium: ReturnType<typeof useChromium>) {
  return {
    /** A new device with the page open; an error thrown in the page fails the test. */
    async open(viewport = { width: 760, height: 540 }): Promise<Page> {
      const context = await chromium.browser.newContext({ viewport });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (error) => {
        throw error;
      });
      await page.goto(`${serverUrl()}/devices`);
      return page;
    },
    /** Signs in through the page's form, and waits until the list shows this device. */
    async signIn(page: Page, email: string, deviceName: string): Promise<void> {
      await page.fill('input[name=email]', email);
      await page.fill('input[name=password]', PASSWORD);
      await page.fill('input[name=deviceInfo]', deviceName);
      await page.click('button[value=login]');
      await page.locator('#sessions tr', { hasText: 'this device' }).waitFor();
    },
  };
}
