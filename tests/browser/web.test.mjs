// Browser tests of the cunji web application, in Debian's headless Chromium driven by playwright-core.
// Started by crates/cunji/tests/browser.rs with CUNJI_BIN (the binary) and SCREENSHOT_DIR set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const bin = process.env.CUNJI_BIN;
const shots = process.env.SCREENSHOT_DIR || 'target/screenshots';
const port = 20000 + Math.floor(Math.random() * 20000);
const base = `http://127.0.0.1:${port}`;
const dir = mkdtempSync(join(tmpdir(), 'cunji-browser-'));
let server;
let browser;

async function waitForServer() {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not start');
}

before(async () => {
  assert.ok(bin, 'CUNJI_BIN must name the cunji binary');
  mkdirSync(shots, { recursive: true });
  server = spawn(bin, ['demo', '--file', join(dir, 'demo.db'), '--addr', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(user, password, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return page;
}

const text = async (page, selector) => (await page.textContent(selector)).trim();

test('each role sees what it may, and is refused what it may not', async () => {
  const admin = await signIn('admin', 'cunji-admin');
  assert.match(await admin.title(), /饶阳县 2024 年总览/);
  assert.ok(await admin.isVisible('#band-chart svg'));
  assert.ok(await admin.isVisible('#targets'));
  await admin.screenshot({ path: join(shots, 'dashboard.png'), fullPage: true });
  await admin.goto(`${base}/village/131124100200?year=2024`);
  assert.ok(await admin.isVisible('text=2024 年结账'));
  await admin.screenshot({ path: join(shots, 'village.png'), fullPage: true });

  const officer = await signIn('raoyang', 'cunji-town');
  assert.match(await officer.title(), /饶阳镇 2024 年总览/);
  const denied = await officer.goto(`${base}/village/131124101200?year=2024`);
  assert.equal(denied.status(), 403);
  assert.match(await officer.textContent('main'), /不能查看 131124101200/);
  await officer.goto(`${base}/village/131124100200?year=2024`);
  assert.equal(await officer.isVisible('text=2024 年结账'), false, 'only the county closes years');

  const accountant = await signIn('dongguan', 'cunji-village');
  assert.match(accountant.url(), /\/village\/131124100200/);
  assert.ok(await accountant.isVisible('#add-entry'));
  assert.equal((await accountant.goto(`${base}/village/131124100201`)).status(), 403);

  const auditor = await signIn('auditor', 'cunji-audit');
  await auditor.goto(`${base}/village/131124100200?year=2024`);
  assert.equal(await auditor.isVisible('#add-entry'), false, 'the auditor changes nothing');
  assert.equal(await auditor.isVisible('a[href="/import"]'), false);
  await auditor.goto(`${base}/audit`);
  assert.match(await auditor.textContent('#audit'), /导入账目/);
});

test('an entry and its reversal change the dashboard', async () => {
  const page = await signIn('raoyang', 'cunji-town');
  const before = await text(page, '#stat-operating-income');
  await page.goto(`${base}/village/131124100200?year=2024`);
  await page.fill('#add-entry input[name=amount]', '123,456.00');
  await page.fill('#add-entry input[name=memo]', '浏览器测试：新增租金');
  await page.selectOption('#add-entry select[name=account]', 'operating_revenue');
  await page.fill('#add-entry input[name=date]', '2024-11-20');
  await Promise.all([page.waitForNavigation(), page.click('#add-entry button')]);
  assert.match(await page.textContent('.flash'), /已记账/);
  await page.goto(`${base}/dashboard`);
  const during = await text(page, '#stat-operating-income');
  assert.notEqual(during, before);
  await page.goto(`${base}/village/131124100200?year=2024`);
  const row = page.locator('#entries tr', { hasText: '浏览器测试：新增租金' });
  await row.locator('input[name=reason]').fill('重复记账');
  await Promise.all([page.waitForNavigation(), row.locator('button').click()]);
  assert.match(await page.textContent('.flash'), /已冲销/);
  assert.match(await page.textContent('#entries'), /冲销：重复记账/);
  await page.goto(`${base}/dashboard`);
  assert.equal(await text(page, '#stat-operating-income'), before);
});

test('the reward workflow walks a village through send-back to published', async () => {
  const officer = await signIn('raoyang', 'cunji-town');
  await officer.goto(`${base}/workflow?year=2024`);
  const row = officer.locator('#proposals tr', { hasText: '未生成方案' }).first();
  const link = row.locator('a');
  const href = await link.getAttribute('href');
  await link.click();
  await Promise.all([officer.waitForNavigation(), officer.click('#compute')]);
  assert.equal(await officer.getAttribute('#status', 'data-status'), 'computed');
  const resolve = async (votesFor) => {
    for (const [name, value] of [['proposed', '2025-01-06'], ['discussed', '2025-01-08'], ['reviewed', '2025-01-10'],
      ['decided', '2025-01-12'], ['members', '33'], ['present', '31'], ['for', votesFor], ['against', '1'],
      ['abstain', '2'], ['resolution_published', '2025-01-13']]) {
      await officer.fill(`#resolve input[name=${name}]`, value);
    }
    await Promise.all([officer.waitForNavigation(), officer.click('#resolve button')]);
  };
  // Voted down: refused with the rule, and the proposal stays computed.
  await resolve('10');
  assert.match(await officer.textContent('#errors-resolve'), /决议须经到会人员的过半数通过/);
  // Everything typed is kept for the correction.
  assert.equal(await officer.inputValue('#resolve input[name=members]'), '33');
  await officer.locator('#resolve').screenshot({ path: join(shots, 'workflow-refused.png') });
  assert.equal(await officer.getAttribute('#status', 'data-status'), 'computed');
  await resolve('28');
  assert.equal(await officer.getAttribute('#status', 'data-status'), 'resolved');
  await officer.screenshot({ path: join(shots, 'workflow-resolved.png'), fullPage: true });
  await officer.fill('#reason', '决议公开照片不清楚，请重新拍照上传');
  // 退回 asks first: without the confirmation the browser does not send the form.
  await officer.check('#confirm-send-back');
  await Promise.all([officer.waitForNavigation(), officer.click('#send-back')]);
  assert.equal(await officer.getAttribute('#status', 'data-status'), 'computed');
  assert.match(await officer.textContent('#steps'), /退回：决议公开照片不清楚/);
  await resolve('28');
  for (const area of await officer.locator('#approve-form textarea').all()) {
    await area.fill('已调阅原始凭证和合同，收入真实');
  }
  await Promise.all([officer.waitForNavigation(), officer.click('#approve')]);
  assert.equal(await officer.getAttribute('#status', 'data-status'), 'township_approved');

  const admin = await signIn('admin', 'cunji-admin');
  await admin.goto(`${base}${href}`);
  await admin.fill('#file-note', '饶农备〔2025〕9号');
  await Promise.all([admin.waitForNavigation(), admin.click('#file')]);
  assert.equal(await admin.getAttribute('#status', 'data-status'), 'county_filed');

  await officer.goto(`${base}${href}`);
  await Promise.all([officer.waitForNavigation(), officer.click('#pay')]);
  assert.equal(await officer.getAttribute('#status', 'data-status'), 'paid');
  await officer.fill('#publish-from', '2025-02-11');
  await officer.fill('#publish-to', '2025-02-20');
  await Promise.all([officer.waitForNavigation(), officer.click('#publish')]);
  assert.equal(await officer.getAttribute('#status', 'data-status'), 'published');
  // computed, resolved, sent back, resolved, approved, filed, paid, published (and the header row).
  assert.equal(await officer.locator('#steps tr').count(), 9);

  const code = href.split('/')[2];
  const phone = await signIn('raoyang', 'cunji-town', { width: 375, height: 812 });
  await phone.goto(`${base}${href}`);
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no horizontal scrolling of the workflow page: ${width}`);
  await phone.screenshot({ path: join(shots, 'workflow-phone.png'), fullPage: true });
  await phone.goto(`${base}/public/village/${code}`);
  assert.ok(await phone.isVisible('#reward-2024'));
});

test('public pages fit a phone, find a village by name, keep larger text, and the notice prints on one A4 page', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 812 }, locale: 'zh-CN', isMobile: true });
  const page = await context.newPage();
  const fits = async (what) => {
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `${what}: no horizontal scrolling at 375 px (${width})`);
  };
  await page.goto(`${base}/public/`);
  await page.fill('#q', '东关');
  await Promise.all([page.waitForNavigation(), page.click('form.search button')]);
  await fits('search');
  await Promise.all([page.waitForNavigation(), page.click('ul.found a')]);
  assert.match(page.url(), /\/public\/village\/131124100200$/);
  const tap = await page.locator('#text-size').boundingBox();
  assert.ok(tap.height >= 44, `the larger-text switch is a 44 px target: ${tap.height}`);
  await Promise.all([page.waitForNavigation(), page.click('#text-size')]);
  assert.equal(await page.getAttribute('html', 'class'), 'large');
  await page.goto(`${base}/public/village/131124100200`);
  assert.equal(await page.getAttribute('html', 'class'), 'large', 'remembered');
  await fits('village page, larger text');
  await page.screenshot({ path: join(shots, 'public-phone-large.png'), fullPage: true });
  // Every link and button of the public pages is a 44 px target on a phone (issue #33).
  for (const path of ['/public/', '/public/?region=131124100000', '/public/village/131124100201',
    '/public/village/131124101200']) {
    await page.goto(`${base}${path}`);
    const small = await page.evaluate(() => [...document.querySelectorAll('main a, main button')]
      .filter((e) => e.offsetParent !== null)
      .map((e) => [e.textContent.trim(), e.getBoundingClientRect().height])
      .filter(([, h]) => h < 44));
    assert.deepEqual(small, [], `tap targets below 44 px on ${path}`);
  }
  await page.goto(`${base}/public/village/131124100200/notice`);
  await fits('notice');
  // The notices of the villages with published rewards (one with a grant) each print on one A4 page.
  const printer = await (await browser.newContext()).newPage();
  // 大迁民村 lists its contracts and subsidy assets (issue #35) and still fits one page.
  for (const code of ['131124100201', '131124100204', '131124100205', '131124101200']) {
    await printer.goto(`${base}/public/village/${code}/notice`);
    const pdf = await printer.pdf({ format: 'A4' });
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
    assert.equal(pages, 1, `the notice of ${code} prints on one A4 page`);
  }
  await printer.emulateMedia({ media: 'print' });
  await printer.screenshot({ path: join(shots, 'notice.png'), fullPage: true });
  await page.goto(`${base}/public/village/131124101200`);
  await fits('public-contracts');
  await page.screenshot({ path: join(shots, 'public-contracts-phone.png'), fullPage: true });
});

// Every page each role reaches from its menu, as that role sees it.
const ROLE_PAGES = [
  ['admin', 'cunji-admin', ['/dashboard', '/villages', '/villages?growth=down&sort=change', '/compare',
    '/compare?region=131124100200', '/village/131124100200?year=2024', '/workflow?year=2024&status=all',
    '/workflow/131124100201/2024', '/policy', '/policy/whatif?rate=20', '/payfloor', '/import', '/audit',
    '/village/131124101200/contracts?year=2024', '/arrears', '/arrears?region=131124101000&sort=days',
    '/contract-alerts?kind=arrears']],
  ['raoyang', 'cunji-town', ['/dashboard', '/villages', '/compare?region=131124100000', '/village/131124100200?year=2024', '/workflow?year=2024',
    '/workflow/131124100201/2024', '/policy', '/policy/whatif', '/payfloor', '/import', '/audit']],
  ['dongguan', 'cunji-village', ['/village/131124100200?year=2024', '/workflow/131124100200/2024', '/policy', '/import',
    '/audit']],
  ['auditor', 'cunji-audit', ['/dashboard', '/villages', '/village/131124100200?year=2024', '/workflow?year=2024&status=all',
    '/policy', '/payfloor', '/audit', '/arrears', '/village/131124101200/contracts?year=2024']],
];

test('a dashboard count opens the list of its villages, which sorts by a column', async () => {
  for (const width of [1280, 375]) {
    const page = await signIn('admin', 'cunji-admin', { width, height: width === 375 ? 812 : 900 });
    await page.goto(`${base}/dashboard?year=2024`);
    const link = page.locator('#band-counts a').first();
    const count = Number(await link.textContent());
    await Promise.all([page.waitForNavigation(), link.click()]);
    assert.match(page.url(), /\/villages\?.*band=/);
    assert.equal(await page.locator('#villages tr').count(), count + 1, 'the list holds the villages counted');
    assert.match(await text(page, '#village-count'), new RegExp(`共 ${count} 个`));
    await Promise.all([page.waitForNavigation(), page.click('#villages th a:has-text("增减")')]);
    assert.match(page.url(), /sort=change/);
    const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scroll <= width, `the list fits ${width} px: ${scroll}`);
    await page.screenshot({ path: join(shots, `villages-band-${width}.png`), fullPage: true });
    await page.context().close();
  }
});

test('every page of every role at 1280 px and at 375 px without sideways scrolling', async () => {
  const wide = [];
  const failed = [];
  for (const [user, password, paths] of ROLE_PAGES) {
    for (const width of [1280, 375]) {
      const page = await signIn(user, password, { width, height: width === 375 ? 812 : 900 });
      for (const path of paths) {
        const response = await page.goto(`${base}${path}`);
        if (response.status() >= 400) failed.push(`${user} ${path}: ${response.status()}`);
        const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
        if (scroll > width) wide.push(`${user} ${path} at ${width}: ${scroll}px`);
        const name = path.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
        await page.screenshot({ path: join(shots, `${user}-${width}-${name}.png`), fullPage: true });
      }
      await page.context().close();
    }
  }
  assert.deepEqual(failed, [], 'pages a role could not open');
  assert.deepEqual(wide, [], 'pages wider than the screen');
});

test('the public page works at phone width and shows its QR code', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 812 }, locale: 'zh-CN', isMobile: true });
  const page = await context.newPage();
  await page.goto(`${base}/public/`);
  await page.click('text=东关村民委员会');
  assert.match(page.url(), /\/public\/village\/131124100200$/);
  const qr = page.locator('#qr svg');
  await qr.scrollIntoViewIfNeeded();
  assert.ok(await qr.isVisible());
  const box = await qr.boundingBox();
  assert.ok(box.width > 100 && box.x >= 0 && box.x + box.width <= 375, `QR code fits the phone: ${JSON.stringify(box)}`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no horizontal scrolling of the page: ${width}`);
  await page.screenshot({ path: join(shots, 'public-phone.png'), fullPage: true });
  const png = await page.request.get(`${base}/public/village/131124100200/qr.png`);
  assert.equal(png.headers()['content-type'], 'image/png');
});
