import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Connection } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@platform/observability';
import { TEST_AUTH_SECRET, TEST_RABBITMQ_URL, testToken, waitFor } from '@platform/testing';
import { createConsoleService, loadConsoleConfig, type ConsoleService } from '@services/console';
import { ask, startTestSystem, type TestSystem } from '../saga/system.harness.js';

// The operator console in a real browser (issue 14): Debian's Chromium, headless, driven by playwright-core,
// against the whole system running in this process on real PostgreSQL and RabbitMQ. Screenshots go to
// test-results/console/ (not committed; the README links them).
const SCREENSHOTS = new URL('../../test-results/console/', import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let system: TestSystem;
let q: ReturnType<typeof ask>;
let consoleService: ConsoleService;
let consoleUrl: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  system = await startTestSystem('console');
  q = ask(system);
  const config = consoleConfig({
    CONSOLE_TRACE_URL: 'http://jaeger.example.test/trace/{trace_id}',
    SAGA_DEADLINE_MS: '12000',
    // Login required, although the browser is on this machine.
    AUTH_MODE: 'required',
  });
  consoleService = await createConsoleService(
    config,
    createLogger({ service: 'console', level: config.logLevel }),
  );
  consoleUrl = await consoleService.app.listen(config.http);
  await mkdir(SCREENSHOTS, { recursive: true });
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: npm test installs Debian's chromium first (scripts/ensure-chromium.sh); run that, or set CHROMIUM_PATH`,
    );
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 60_000);

afterAll(async () => {
  await browser.close();
  await consoleService.stop();
  await system.remove();
}, 60_000);

/** The steps of the order page's saga timeline, in order. */
const stepsShown = async () =>
  Promise.all((await page.locator('ol.timeline li').all()).map((item) => item.getAttribute('data-step')));

/** A console reading the test system, signing and checking tokens with the test secret. */
const consoleConfig = (env: Record<string, string>) =>
  loadConsoleConfig({
    CONSOLE_HOST: '127.0.0.1',
    CONSOLE_PORT: '0',
    CONSOLE_ORDER_API_URL: system.urls.order,
    CONSOLE_INVENTORY_API_URL: system.urls.inventory,
    CONSOLE_PAYMENT_API_URL: system.urls.payment,
    CONSOLE_FULFILMENT_API_URL: system.urls.fulfilment,
    CONSOLE_NOTIFICATION_API_URL: system.urls.notification,
    RABBITMQ_URL: TEST_RABBITMQ_URL,
    RABBITMQ_EXCHANGE: system.exchange.name,
    AUTH_JWT_SECRET: TEST_AUTH_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });

const shot = (name: string) => page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });

async function logIn(token: string): Promise<void> {
  await page.goto(`${consoleUrl}/`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
}

describe('the operator console', () => {
  it('refuses a customer’s token and lets an operator in, with a session cookie that scripts cannot read', async () => {
    await page.goto(`${consoleUrl}/orders`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await logIn(await testToken('customer-123'));
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('operators');
    await shot('login-refused');

    await logIn(await testToken('ops-1', { operator: true }));
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const session = (await page.context().cookies()).find((cookie) => cookie.name === 'console_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // What a page's scripts can see of the cookies (`document.cookie`): not the session.
    expect(await page.evaluate('document.cookie')).not.toContain('console_session');
    // The overview reads the services' metrics: every service answers.
    await waitFor('the services read', async () => {
      await page.reload();
      return (await page.locator('td.good').count()) === 5;
    });
    await shot('overview');
  });

  it('finds an order by id and shows every step of a completed one, with its payment, placement and trace', async () => {
    const id = await q.placeOrder({
      user_id: 'customer-123',
      items: [{ product_code: 'classic-box', quantity: 1 }],
    });
    expect((await q.finalOrder(id)).status).toBe('COMPLETED');
    await page.goto(`${consoleUrl}/orders`);
    await page.getByLabel('Order, customer or product').fill(id);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: id }).click();
    await page.getByRole('heading', { name: `Order ${id}` }).waitFor();
    const steps = await stepsShown();
    expect(steps).toEqual(['placed', 'priced', 'stock_reserved', 'paid', 'fulfilment_placed', 'completed']);
    expect(await page.locator('[data-section="payment"]').textContent()).toMatch(/charged.*charge/s);
    expect(await page.locator('[data-section="placement"]').textContent()).toMatch(/placed/);
    // Every call to a third party, with what came of it.
    expect(await page.locator('[data-attempt="charge:charged"]').count()).toBe(1);
    expect(await page.locator('[data-attempt="place:placed"]').count()).toBe(1);
    await shot('order-completed');

    // The search by customer lists it too (newest first), and the filters narrow it.
    await page.goto(`${consoleUrl}/orders?q=customer-123&status=COMPLETED&product=classic-box`);
    expect(await page.getByRole('link', { name: id }).count()).toBe(1);
    await page.goto(`${consoleUrl}/orders?q=customer-123&status=CANCELLED`);
    expect(await page.getByRole('link', { name: id }).count()).toBe(0);
    await shot('orders-search');
  });

  it('shows a refunded order: paid, then cancelled when the placement failed, and the money given back', async () => {
    system.chance.fulfilment = () => 0.01; // every placement fails until its deadline
    try {
      const id = await q.placeOrder({
        user_id: 'customer-123',
        items: [{ product_code: 'classic-box', quantity: 1 }],
      });
      expect(await q.finalOrder(id)).toMatchObject({ status: 'CANCELLED', reason: 'placement_failed' });
      await waitFor('refunded', async () => (await q.gateway(id))?.refund !== null);
      await page.goto(`${consoleUrl}/orders/${id}`);
      const steps = await stepsShown();
      expect(steps.slice(0, 4)).toEqual(['placed', 'priced', 'stock_reserved', 'paid']);
      expect(steps).toContain('cancelled');
      await waitFor('the refund shown', async () => {
        await page.reload();
        return /refunded.*refund/s.test((await page.locator('[data-section="payment"]').textContent()) ?? '');
      });
      // Each failed placement call is listed, then the refund.
      expect(await page.locator('[data-attempt="place:retry"]').count()).toBeGreaterThan(0);
      expect(await page.locator('[data-attempt="refund:refunded"]').count()).toBe(1);
      await shot('order-refunded');
    } finally {
      system.chance.fulfilment = () => 0.5;
    }
  });

  it('finds a dead letter by its order, shows it in its group, replays it, and the order completes', async () => {
    // An order whose order.created failed at inventory and was dead-lettered: inventory is stopped, the
    // event is taken from its queue and put in its dead-letter queue, as the consumer does after its last
    // attempt; inventory comes back, and only the replay can move the order on.
    await system.stop('inventory');
    const id = await q.placeOrder({
      user_id: 'customer-123',
      items: [{ product_code: 'classic-box', quantity: 1 }],
    });
    const connection = new Connection({ url: TEST_RABBITMQ_URL });
    const queue = `${system.exchange.name}.inventory`;
    const channel = await connection.acquire();
    const message = await waitFor('order.created in the inventory queue', async () => {
      const got = await channel.basicGet({ queue });
      if (got && got.correlationId !== id) channel.basicNack({ deliveryTag: got.deliveryTag, requeue: true });
      return got?.correlationId === id ? got : undefined;
    });
    await channel.confirmSelect();
    await channel.basicPublish(
      {
        routingKey: `${queue}.dlq`,
        messageId: message.messageId,
        correlationId: message.correlationId,
        contentType: 'application/json',
        durable: true,
        headers: {
          'x-attempt': 5,
          'x-last-error': 'could not reserve: the database was away',
          'x-original-routing-key': 'order.created',
          'x-dead-lettered-at': new Date().toISOString(),
        },
      },
      Buffer.from(JSON.stringify(message.body)),
    );
    channel.basicAck({ deliveryTag: message.deliveryTag });
    await channel.close();
    await connection.close();
    await system.start('inventory');

    await page.goto(`${consoleUrl}/dead-letters`);
    await page.getByRole('link', { name: 'inventory' }).click();
    await page.getByLabel('Order id or message id').fill(id);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('heading', { name: /could not reserve: the database was away/ }).waitFor();
    const letter = page.locator(`details.letter[data-message-id="${message.messageId ?? ''}"]`);
    await letter.locator('summary').click();
    expect(await letter.locator('pre').first().textContent()).toContain('x-last-error');
    expect(await letter.locator('pre').nth(1).textContent()).toContain(`"correlation_id": "${id}"`);
    await shot('dead-letters');
    await letter.getByRole('button', { name: 'Replay this one' }).click();
    await page.getByRole('status').filter({ hasText: 'replayed: 1' }).waitFor();
    expect((await q.finalOrder(id)).status).toBe('COMPLETED');
  }, 30_000);

  it('groups a poison message under its error, replays it (refused again), then discards it into the archive', async () => {
    await system.exchange.publish('order.created', { not: 'an event' }, { messageId: 'poison-1' });
    await page.goto(`${consoleUrl}/dead-letters`);
    await waitFor('the poison listed', async () => {
      await page.reload();
      return ((await page.locator('tbody').textContent()) ?? '').includes('invalid event');
    });
    await page.goto(`${consoleUrl}/dead-letters/inventory?q=poison-1`);
    await page.getByRole('heading', { name: /invalid event/ }).waitFor();
    await page.getByRole('button', { name: 'Replay the selected' }).click();
    await page.getByRole('status').filter({ hasText: 'replayed: 1' }).waitFor();
    // Invalid still: the consumer refuses it again at once, and it is back in its group.
    await waitFor('back in its group', async () => {
      await page.goto(`${consoleUrl}/dead-letters/inventory?q=poison-1`);
      return (await page.locator('details.letter[data-message-id="poison-1"]').count()) === 1;
    });
    await page.getByRole('button', { name: 'Discard the selected…' }).click();
    await page.getByRole('heading', { name: 'Are you sure?' }).waitFor();
    await page.getByRole('button', { name: 'Yes, do it' }).click();
    await page.getByRole('status').filter({ hasText: 'discarded: 1' }).waitFor();
    expect(await page.locator('details.letter[data-message-id="poison-1"]').count()).toBe(0);
    await page.getByRole('link', { name: 'See the archive of discarded letters' }).click();
    expect(await page.locator('details.letter[data-message-id="poison-1"]').count()).toBe(1);
    await shot('dead-letters-archive');
  }, 30_000);

  it('works from the keyboard and on a phone-sized screen', async () => {
    await page.goto(`${consoleUrl}/orders`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Overview');
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.context().addCookies(await page.context().cookies());
    for (const path of ['/', '/orders', '/dead-letters']) {
      await phone.goto(`${consoleUrl}${path}`);
      // Nothing wider than the screen: tables scroll inside their own box.
      expect(await phone.evaluate('document.documentElement.scrollWidth'), path).toBeLessThanOrEqual(390);
    }
    await phone.screenshot({ path: `${SCREENSHOTS}phone-dead-letters.png`, fullPage: true });
    await phone.close();
  });

  it('cancels a pending order from its page, after a confirmation', async () => {
    system.chance.fulfilment = () => 0.01;
    try {
      const id = await q.placeOrder({
        user_id: 'customer-123',
        items: [{ product_code: 'classic-box', quantity: 1 }],
      });
      await page.goto(`${consoleUrl}/orders/${id}`);
      await page.getByRole('button', { name: 'Cancel this order…' }).click();
      await page.getByRole('heading', { name: 'Are you sure?' }).waitFor();
      await page.getByRole('button', { name: 'Yes, do it' }).click();
      expect(new URL(page.url()).searchParams.get('notice')).toBe('cancelled');
      expect(await q.finalOrder(id)).toMatchObject({ status: 'CANCELLED', reason: 'customer_request' });
    } finally {
      system.chance.fulfilment = () => 0.5;
    }
  });

  it('refuses a form posted without its CSRF token', async () => {
    const response = await page.request.post(`${consoleUrl}/dead-letters/inventory/replay`, {
      form: { all: 'yes' },
    });
    expect(response.status()).toBe(403);
  });
});

/** A GET over plain HTTP with the headers given (Host included), without following redirects. */
function rawGet(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

/** A plain TCP relay on a port of its own to `port` on 127.0.0.1, as socat or `ssh -L` would be. */
async function startTcpRelay(port: number): Promise<{ port: number; close(): Promise<void> }> {
  const relay = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as AddressInfo).port,
    close: () => new Promise((resolve) => relay.close(() => resolve())),
  };
}

describe('nothing open by default (SPEC §4.10, issue 22)', () => {
  it('asks for a login on this machine too, unless CONSOLE_OPEN says otherwise', async () => {
    const config = consoleConfig({ AUTH_MODE: 'optional' });
    const closed = await createConsoleService(config, createLogger({ service: 'console', level: 'silent' }));
    const port = new URL(await closed.app.listen(config.http)).port;
    try {
      const local = await rawGet(Number(port), '/orders', { host: `127.0.0.1:${port}` });
      expect(local.status).toBe(303);
      expect(local.headers.location).toBe('/login?next=%2Forders');
    } finally {
      await closed.stop();
    }
  });

  it('opened, asks for no login on the loopback interface and says so, but a relay on another port gets the login page', async () => {
    const config = consoleConfig({ AUTH_MODE: 'optional', CONSOLE_OPEN: 'true' });
    const open = await createConsoleService(config, createLogger({ service: 'console', level: 'silent' }));
    const port = Number(new URL(await open.app.listen(config.http)).port);
    const relay = await startTcpRelay(port);
    try {
      const local = await rawGet(port, '/orders', { host: `localhost:${port}` });
      expect(local.status).toBe(200);
      expect(local.body).toContain('Open console');
      // Through a relay on another port, whatever name the caller writes: the login page.
      for (const host of ['localhost', `localhost:${relay.port}`, '127.0.0.1']) {
        const relayed = await rawGet(relay.port, '/orders', { host });
        expect(relayed.status, host).toBe(303);
        expect(relayed.headers.location).toBe('/login?next=%2Forders');
      }
      // Local in appearance only: a site's name rebound to 127.0.0.1, or a proxy relaying someone else.
      for (const headers of [
        { host: 'evil.example' } as Record<string, string>,
        { host: `localhost:${port}`, 'x-forwarded-for': '203.0.113.7' },
      ]) {
        const relayed = await rawGet(port, '/orders', headers);
        expect(relayed.status, JSON.stringify(headers)).toBe(303);
      }
      const remote = await open.app.inject({ url: '/orders', remoteAddress: '203.0.113.7' });
      expect(remote.statusCode).toBe(303);
    } finally {
      await relay.close();
      await open.stop();
    }
  });

  it('sends a content security policy, no framing, nosniff and no referrer with every page', async () => {
    for (const path of ['/login', '/orders']) {
      const response = await page.request.get(`${consoleUrl}${path}`, { maxRedirects: 0 });
      const headers = response.headers();
      expect(headers['content-security-policy'], path).toMatch(/default-src 'self'/);
      expect(headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
      expect(headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['x-frame-options']).toBe('DENY');
    }
  });

  it("logs in from a login link (npm start's), the token in the URL's fragment, which leaves the address bar", async () => {
    const context = await browser.newContext();
    const fresh = await context.newPage();
    try {
      await fresh.goto(
        `${consoleUrl}/login?next=%2Fdead-letters#token=${await testToken('link-operator', { operator: true })}`,
      );
      await fresh.waitForURL((url) => url.pathname === '/dead-letters');
      expect(fresh.url()).not.toContain('token=');
      expect(await fresh.locator('header .who').textContent()).toContain('link-operator');
    } finally {
      await context.close();
    }
  });
});
