import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { queueShards } from '../runtime/queue-registry.ts';
import { launchBrowser } from './support/browser.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

describe('an admin in a real browser', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let browser: Browser;
  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await platform.cleanup();
  });

  it('signs in with a token and sees every queue in Bull Board', async () => {
    const page = await browser.newPage();
    const first = await page.goto(`${api.url}/admin/queues`);
    assert.equal(first?.status(), 401);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Admin token').fill(await api.token('admin', 'ops'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${api.url}/admin/queues`);
    for (const { label } of queueShards(platform.config.queueShards)) {
      await page.getByText(label, { exact: true }).first().waitFor({ timeout: 15_000 });
    }
    const cookies = await page.context().cookies();
    assert.equal(cookies.find((c) => c.name === 'deligo_token')?.httpOnly, true);
  });

  it('a customer token is refused at the sign-in', async () => {
    const page = await browser.newPage();
    await page.goto(`${api.url}/admin/login`);
    await page.getByLabel('Admin token').fill(await api.token('customer', 'c-1'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('only admins may sign in here').waitFor();
    const board = await page.goto(`${api.url}/admin/queues`);
    assert.equal(board?.status(), 401);
  });
});
