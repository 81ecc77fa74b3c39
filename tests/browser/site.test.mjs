// Browser test of Arkiv's public site, in Debian's headless Chromium driven by
// playwright-core, with axe-core for accessibility.
//
// Run it through scripts/browser-test.sh, which installs what is missing,
// starts `arkiv demo` on a free port and sets ARKIV_URL. By hand:
//   ARKIV_URL=http://127.0.0.1:PORT/ node --test --test-concurrency=1 site.test.mjs
//
// Environment:
//   ARKIV_URL       base URL of a running `arkiv demo` (required)
//   ARKIV_NAME      the repository's name (default "Arkiv demo repository")
//   CHROMIUM        the browser binary (default /usr/bin/chromium)
//   SCREENSHOT_DIR  where screenshots go (default ./screenshots beside this file)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const BASE = process.env.ARKIV_URL;
if (!BASE) throw new Error('ARKIV_URL is not set: start `arkiv demo` and point ARKIV_URL at it');
const REPO_NAME = process.env.ARKIV_NAME || 'Arkiv demo repository';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || join(here, 'screenshots');
const AXE_PATH = require.resolve('axe-core/axe.min.js');

const SEED_TITLE = "Kazakhstan's attitude towards integration with Russia: less love, more fear";
const SEED_CITATION =
  "Jaroslewlcz, Aleksandra (2014) Kazakhstan's attitude towards integration with Russia: " +
  'less love, more fear. OSW Commentary No. 137, 29.05.2014. [Policy Paper]';

const DESKTOP = { viewport: { width: 1280, height: 800 } };
const PHONE = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
};

let browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  for (const name of ['desktop', 'phone']) rmSync(join(SHOTS, `${name}-failure.png`), { force: true });
  // chromium.launch gives every run a fresh, throw-away profile directory of
  // its own (it refuses --user-data-dir), so nothing carries over between runs.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  console.log(`# browser: Chromium ${browser.version()} at ${CHROMIUM}; site: ${BASE}`);
});

after(async () => {
  await browser?.close();
});

const url = (path) => new URL(path, BASE).toString();

// A context whose pages can have axe-core injected. The site sends a strict
// Content-Security-Policy (default-src 'none'), which blocks the inline
// <script> that page.addScriptTag creates; bypassCSP lets the test inject axe.
// It is used only for the axe runs: the CSP itself is exercised, unbypassed,
// by the "own CSP" and "JavaScript disabled" tests below.
async function axeContext(device, extra = {}) {
  return newContext({ ...device, bypassCSP: true, ...extra });
}

// Every context waits at most 15 s for an element or a navigation.
async function newContext(options) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(15000);
  context.setDefaultNavigationTimeout(30000);
  return context;
}

const TIMEOUT = { timeout: 120000 };

// Every violation axe finds goes to the log; serious and critical ones fail.
async function checkA11y(page, label) {
  await page.addScriptTag({ path: AXE_PATH });
  const outcome = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations', 'incomplete'] });
    return {
      passed: r.passes.length,
      incomplete: r.incomplete.map((v) => `${v.id} (${v.impact ?? 'no impact'}; ${v.nodes.length} nodes: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')})`),
      violations: r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({
          target: n.target.join(' '),
          summary: n.failureSummary,
          html: n.html.length > 200 ? n.html.slice(0, 200) + '…' : n.html,
        })),
      })),
    };
  });
  const results = outcome.violations;
  assert.ok(outcome.passed > 0, `${label}: axe ran no rule`);
  console.log(`# axe ${label} (${page.url()}): ${results.length} violations, ${outcome.passed} rules passed`);
  // "Incomplete" is axe's "needs a human to review": logged, not failed.
  for (const i of outcome.incomplete) console.log(`# axe ${label}: needs review: ${i}`);
  for (const v of results) {
    console.log(`# axe ${label} (${page.url()}): [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`);
    for (const n of v.nodes) {
      console.log(`#     at ${n.target}: ${n.html}`);
      for (const line of (n.summary || '').split('\n')) console.log(`#       ${line}`);
    }
  }
  const bad = results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id} at ${v.nodes.map((n) => n.target).join(', ')}`),
    [],
    `${label}: axe found serious or critical violations`,
  );
}

async function shoot(page, name) {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`# screenshot ${path}`);
}

async function assertNoHorizontalScroll(page, label) {
  const m = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    // The widest offenders, to say what overflows if anything does.
    wide: [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}${e.className ? '.' + String(e.className).split(' ').join('.') : ''} right=${Math.round(e.getBoundingClientRect().right)}`),
  }));
  assert.ok(
    m.scrollWidth <= m.innerWidth,
    `${label}: horizontal scroll on a phone: scrollWidth ${m.scrollWidth} > innerWidth ${m.innerWidth}; overflowing: ${m.wide.join('; ')}`,
  );
}

// --- the steps of the flow, shared by the desktop, phone and no-JS runs ---

async function assertHome(page) {
  await assert.doesNotReject(
    page.getByRole('heading', { level: 1, name: REPO_NAME, exact: true }).waitFor(),
    'home: the repository name heading',
  );
  const latest = page.getByRole('region', { name: 'Latest additions' });
  await latest.getByRole('heading', { level: 2, name: 'Latest additions' }).waitFor();
  const items = latest.getByRole('listitem');
  const n = await items.count();
  assert.ok(n >= 1, `home: the latest additions list has ${n} items`);
  // Every entry links to a record's abstract page, /ID/.
  for (let i = 0; i < n; i++) {
    const href = await items.nth(i).getByRole('link').first().getAttribute('href');
    assert.match(href, /^\/\d+\/$/, `home: latest additions item ${i} links to ${href}`);
  }
}

async function goBrowseByYear(page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'By year', exact: true }).click();
  await page.waitForURL(url('/view/year/'));
  await page.getByRole('heading', { level: 1, name: 'Browse by year' }).waitFor();
}

async function goYear2014(page) {
  await page.getByRole('main').getByRole('link', { name: '2014', exact: true }).click();
  await page.waitForURL(url('/view/year/2014.html'));
  await page.getByRole('heading', { level: 1, name: '2014' }).waitFor();
  const items = await page.getByRole('main').getByRole('listitem').count();
  assert.ok(items >= 1, `2014 has ${items} items`);
}

async function goSeedRecord(page) {
  await page.getByRole('main').getByRole('link', { name: SEED_TITLE, exact: true }).click();
  await page.waitForURL(url('/1/'));
}

async function assertSeedRecord(page) {
  await page.getByRole('heading', { level: 1, name: SEED_TITLE, exact: true }).waitFor();
  const citation = (await page.locator('main .citation-full').textContent()).replace(/\s+/g, ' ').trim();
  assert.equal(citation, SEED_CITATION, 'abstract page: the citation line');
  const actions = page.getByRole('complementary', { name: 'Actions (login required)' });
  await actions.getByRole('heading', { name: 'Actions (login required)' }).waitFor();
  assert.equal(await actions.getByRole('link', { name: 'Log in' }).count(), 1, 'the actions box offers to log in');
  await page.getByRole('heading', { level: 2, name: 'Abstract' }).waitFor();
}

// Clicks the document link and checks that what arrives is the PDF.
// Arkiv serves documents inline (Content-Disposition: inline), which headless
// Chromium shows in its PDF viewer instead of downloading. To download it as
// a reader who saves the file would, the route below passes the server's
// response through untouched except for Content-Disposition: attachment,
// after recording the status and headers the server really sent.
async function downloadSeedPdf(page) {
  const link = page.getByRole('link', { name: 'commentary_137.pdf', exact: true });
  const href = await link.getAttribute('href');
  assert.equal(href, '/1/1/commentary_137.pdf');
  let served;
  await page.route('**/*.pdf', async (route) => {
    const response = await route.fetch();
    served = { status: response.status(), headers: response.headers() };
    await route.fulfill({
      response,
      headers: { ...response.headers(), 'content-disposition': 'attachment; filename="commentary_137.pdf"' },
    });
  });
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15000 }), link.click()]);
  await page.unroute('**/*.pdf');
  assert.ok(served, 'the PDF request went through the route');
  assert.equal(served.status, 200, 'PDF: status');
  assert.equal(served.headers['content-type'], 'application/pdf', 'PDF: content-type');
  assert.equal(download.suggestedFilename(), 'commentary_137.pdf');
  assert.equal(await download.failure(), null, 'the download completed');
  const body = readFileSync(await download.path());
  assert.equal(body.subarray(0, 5).toString('latin1'), '%PDF-', 'the downloaded file is a PDF');
  assert.equal(String(body.length), served.headers['content-length'], 'the whole file arrived');
  assert.ok(body.subarray(-1024).toString('latin1').includes('%%EOF'), 'the PDF ends with %%EOF');
  console.log(`# downloaded ${download.suggestedFilename()}: ${body.length} bytes, ${served.headers['content-disposition'] ?? 'no content-disposition'} as served`);

  // And as a plain fetch with the page's cookies: the headers as served.
  const r = await page.request.get(url(href));
  assert.equal(r.status(), 200);
  assert.equal(r.headers()['content-type'], 'application/pdf');
  assert.equal((await r.body()).subarray(0, 5).toString('latin1'), '%PDF-');
}

// --- the tests ---

for (const [name, device] of [['desktop', DESKTOP], ['phone', PHONE]]) {
  test(`${name}: home → browse by year → 2014 → seed record → PDF, with axe and screenshots`, TIMEOUT, async () => {
    const context = await axeContext(device, { acceptDownloads: true });
    const page = await context.newPage();
    try {
      const response = await page.goto(url('/'));
      assert.equal(response.status(), 200);
      await assertHome(page);
      if (name === 'phone') await assertNoHorizontalScroll(page, 'home');
      await shoot(page, `${name}-home`);
      await checkA11y(page, `${name} home`);

      await goBrowseByYear(page);
      if (name === 'phone') await assertNoHorizontalScroll(page, 'browse by year');
      await shoot(page, `${name}-browse-year`);
      await checkA11y(page, `${name} browse by year`);

      await goYear2014(page);
      if (name === 'phone') await assertNoHorizontalScroll(page, 'browse 2014');
      await shoot(page, `${name}-browse-2014`);
      await checkA11y(page, `${name} browse 2014`);

      await goSeedRecord(page);
      await assertSeedRecord(page);
      if (name === 'phone') await assertNoHorizontalScroll(page, 'abstract page');
      await shoot(page, `${name}-abstract`);
      await checkA11y(page, `${name} abstract page`);

      await downloadSeedPdf(page);
    } catch (e) {
      // Where it stopped, for whoever reads the failure.
      await page.screenshot({ path: join(SHOTS, `${name}-failure.png`), fullPage: true }).catch(() => {});
      console.log(`# failed at ${page.url()}; screenshot ${join(SHOTS, `${name}-failure.png`)}`);
      throw e;
    } finally {
      await context.close();
    }
  });
}

test('phone: no page scrolls sideways', TIMEOUT, async () => {
  // The flow above checks the pages it passes through; this one also covers
  // the other browse views and a long record page.
  const context = await newContext(PHONE);
  try {
    const page = await context.newPage();
    for (const path of ['/', '/view/', '/view/year/', '/view/year/2014.html', '/view/subject/', '/view/creator/', '/view/series/', '/view/type/', '/1/']) {
      const response = await page.goto(url(path));
      assert.equal(response.status(), 200, `${path}: status`);
      await assertNoHorizontalScroll(page, path);
    }
  } finally {
    await context.close();
  }
});

test('JavaScript disabled: the same navigation works', TIMEOUT, async () => {
  const context = await newContext({ ...DESKTOP, javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto(url('/'));
    await assertHome(page);
    await goBrowseByYear(page);
    await goYear2014(page);
    await goSeedRecord(page);
    await assertSeedRecord(page);
    const r = await page.request.get(url(await page.getByRole('link', { name: 'commentary_137.pdf' }).getAttribute('href')));
    assert.equal(r.status(), 200);
    assert.equal(r.headers()['content-type'], 'application/pdf');
  } finally {
    await context.close();
  }
});

test('under its own CSP: no console errors, no blocked or failed resources', TIMEOUT, async () => {
  // No bypassCSP here: a stylesheet, image or inline style that the site's
  // Content-Security-Policy blocks shows up as a console error.
  const context = await newContext(DESKTOP);
  try {
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    // A request still in flight when the next page.goto starts (the favicon,
    // fetched after 'load') is aborted by the browser, not refused by the site.
    page.on('requestfailed', (r) => {
      if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
    for (const path of ['/', '/view/year/', '/view/year/2014.html', '/1/']) {
      await page.goto(url(path), { waitUntil: 'load' });
      // The stylesheet applied: the masthead has its own background.
      const bg = await page.evaluate(() => getComputedStyle(document.querySelector('header')).backgroundColor);
      assert.notEqual(bg, 'rgba(0, 0, 0, 0)', `${path}: the stylesheet did not apply`);
    }
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

// The deposit workflow end to end: a visitor registers, deposits a policy
// paper with its PDF and submits it; the editor (made by browser-test.sh
// with `arkiv user add --role editor`, ARKIV_EDITOR_EMAIL) accepts it; the
// paper is live, on the home page and found by search. With axe on the
// deposit page.
const EDITOR_EMAIL = process.env.ARKIV_EDITOR_EMAIL;
const EDITOR_PASSWORD = process.env.ARKIV_EDITOR_PASSWORD;
const ADMIN_EMAIL = process.env.ARKIV_ADMIN_EMAIL;
const ADMIN_PASSWORD = process.env.ARKIV_ADMIN_PASSWORD;
const SEED_PDF = join(here, '..', '..', 'data', 'seed', 'files', 'commentary_137.pdf');

test('register → deposit a policy paper with a PDF → submit; editor accepts; it is live', TIMEOUT, async (t) => {
  if (!EDITOR_EMAIL) {
    if (process.env.CI === 'true') assert.fail('ARKIV_EDITOR_EMAIL is not set (browser-test.sh sets it)');
    t.skip('ARKIV_EDITOR_EMAIL is not set');
    return;
  }
  const title = `A deposited policy paper ${Date.now()}`;
  const depositor = await axeContext(DESKTOP); // axe is injected as a script
  const editor = await newContext(DESKTOP);
  const page = await depositor.newPage();
  try {
    const email = `depositor-${Date.now()}@example.org`;
    await page.goto(url('/register'));
    await page.fill('#email', email);
    await page.fill('#name', 'Anna Depositor');
    await page.fill('#password', 'a long enough passphrase');
    await page.fill('#password_again', 'a long enough passphrase');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByText('We have sent a message to').waitFor();

    // No SMTP here: the confirmation link waits in the outbox on /admin.
    const adm = await editor.newPage();
    await adm.goto(url('/login'));
    await adm.fill('#email', ADMIN_EMAIL);
    await adm.fill('#password', ADMIN_PASSWORD);
    await adm.getByRole('button', { name: 'Log in' }).click();
    await adm.getByText('Logged in as').first().waitFor();
    await adm.goto(url('/admin'));
    // The messages sit in closed <details>: their text, not what shows.
    const outbox = (await adm.locator('pre.message').allTextContents()).join('\n');
    const link = outbox.match(/http\S*\/register\/confirm\?token=[0-9a-f]{64}/);
    assert.ok(link, 'the confirmation link is in the outbox');
    await adm.close();
    const confirmAt = new URL(link[0]);
    await page.goto(url(confirmAt.pathname + confirmAt.search));
    await page.fill('#password', 'a long enough passphrase');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Logged in as').first().waitFor();

    await page.getByRole('link', { name: 'My items' }).click();
    await page.waitForURL(url('/workarea'));
    await page.selectOption('#new-type', 'policy_paper');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/\/deposit\/\d+$/);
    const id = page.url().match(/\/deposit\/(\d+)$/)[1];
    await page.getByText('Before it can be submitted').waitFor();

    await page.fill('#f-title', title);
    await page.fill('#f-creators', 'Depositor, Anna');
    await page.fill('#f-date', '2026-11-28');
    await page.fill('#f-series', 'OSW Commentary');
    await page.fill('#f-number', '999');
    await page.fill('#f-institution', 'Centre for Eastern Studies');
    await page.fill('#f-abstract', 'A paper deposited through the browser.');
    await page.getByRole('button', { name: 'Save', exact: true }).first().click();
    await page.getByRole('status').getByText('Saved.', { exact: true }).waitFor();

    // The one script of the site (upload progress) runs under the deposit
    // page's policy and sends the file itself; the page still ends on the
    // server's answer, as a plain form post would.
    assert.equal(await page.locator('form.upload-form[data-progress="on"]').count(), 1, 'the upload script is active');
    await page.setInputFiles('#u-file', SEED_PDF);
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('status').getByText('The file was added.', { exact: true }).waitFor();
    assert.equal(await page.getByText('Before it can be submitted').count(), 0, 'complete after the upload');
    await checkA11y(page, 'deposit page');
    await shoot(page, 'desktop-deposit');

    await page.getByRole('button', { name: 'Submit for review' }).click();
    await page.waitForURL(/\/workarea/);
    await page.getByRole('heading', { name: 'Under review' }).waitFor();

    const ed = await editor.newPage();
    await ed.goto(url('/login'));
    await ed.fill('#email', EDITOR_EMAIL);
    await ed.fill('#password', EDITOR_PASSWORD);
    await ed.getByRole('button', { name: 'Log in' }).click();
    await ed.getByText('Logged in as').first().waitFor();
    await ed.getByRole('link', { name: 'Review', exact: true }).click();
    await ed.getByRole('link', { name: title }).click();
    await ed.waitForURL(url(`/deposit/${id}`));
    await ed.getByRole('button', { name: 'Accept into the live archive' }).click();
    await ed.waitForURL(url(`/${id}/`));
    await ed.getByRole('heading', { level: 1, name: title }).waitFor();

    // Live for everyone: a fresh, anonymous context.
    const anon = await (await newContext(DESKTOP)).newPage();
    const res = await anon.goto(url(`/${id}/`));
    assert.equal(res.status(), 200);
    await anon.goto(url('/'));
    await anon.getByRole('region', { name: 'Latest additions' }).getByRole('link', { name: title }).waitFor();
    // Searchable once the index follower has caught up (within a second or two).
    let found = false;
    for (let i = 0; i < 20 && !found; i++) {
      await anon.goto(url(`/search?q=${encodeURIComponent('"deposited policy paper"')}`));
      found = (await anon.getByRole('link', { name: title }).count()) > 0;
      if (!found) await anon.waitForTimeout(500);
    }
    assert.ok(found, 'the accepted paper is found by search');
    await anon.context().close();
  } catch (e) {
    await page.screenshot({ path: join(SHOTS, 'deposit-failure.png'), fullPage: true }).catch(() => {});
    console.log(`# failed at ${page.url()}; screenshot ${join(SHOTS, 'deposit-failure.png')}`);
    throw e;
  } finally {
    await depositor.close();
    await editor.close();
  }
});
