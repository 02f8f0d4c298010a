// The web UI in a real headless Chromium: it loads, runs a two-config
// simulation, steps through the timeline, opens a stack's history, and loads a
// trace named on the command line, with no console errors; screenshots go to
// out/screenshots/. Plus the server's own rules: 127.0.0.1 only, only named files.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startUiServer } from '../../src/ui/server.ts';
import { browserSkipReason, openBrowser, screenshotPath } from './browser.ts';

const TRACE = 'examples/traces/pthread-loop.trace.gz';

test('the server binds 127.0.0.1 and serves only files named on its command line', async () => {
  const ui = await startUiServer({ port: 0, files: [TRACE] });
  try {
    assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const addr = ui.server.address();
    assert.equal(typeof addr === 'object' && addr?.address, '127.0.0.1');
    const meta = (await (await fetch(`${ui.url}api/meta`)).json()) as { files: string[] };
    assert.deepEqual(meta.files, ['pthread-loop.trace.gz']);
    assert.equal((await fetch(`${ui.url}api/file/1`)).status, 404);
    assert.equal((await fetch(`${ui.url}api/file/..%2Fpackage.json`)).status, 404);
    assert.equal((await fetch(`${ui.url}etc/passwd`)).status, 404);
    const sim = await fetch(`${ui.url}api/sim`, { method: 'POST', body: JSON.stringify({ workload: 'pthread-loop', configs: ['nope'] }) });
    assert.equal(sim.status, 400);
  } finally {
    await ui.close();
  }
});

test('the UI in Chromium: compare two configs, step, click a stack, load a trace', { timeout: 30_000, skip: browserSkipReason() ?? false }, async () => {
  const ui = await startUiServer({ port: 0, files: [TRACE] });
  const s = await openBrowser({ width: 1600, height: 1300 });
  try {
    const page = s.page;
    await page.goto(ui.url);
    // The first file on the command line opens by default; then run a simulation.
    await page.waitForSelector('section.run svg.tl');
    assert.match((await page.locator('.run-title').first().textContent()) ?? '', /pthread-loop\.trace\.gz/);
    await page.screenshot({ path: screenshotPath('ui-trace.png') });
    await page.selectOption('#cfgA', 'linux-4.9');
    await page.selectOption('#cfgB', 'linux-6.18');
    await page.click('#run');
    await page.waitForFunction(() => document.querySelectorAll('section.run').length === 2 && document.querySelector('.run-title')?.textContent === 'linux-4.9');
    const before = await page.locator('#pos').textContent();
    for (let i = 0; i < 5; i++) await page.click('#nextStack');
    await page.keyboard.press('ArrowRight');
    const after = await page.locator('#pos').textContent();
    assert.notEqual(before, after, 'stepping moves the cursor');
    await page.click('#back');
    // Click a stack in the second run's cache or stack list, and its history appears.
    const chip = page.locator('section.run[data-run="1"] .stacks .chips .chip').first();
    await chip.click();
    await page.waitForSelector('section.run[data-run="1"] .history .hist-title');
    const hist = await page.locator('section.run[data-run="1"] .history li').count();
    assert.ok(hist >= 2, `a stack's history has its events (${hist})`);
    // Clicking a timeline mark seeks to it.
    const pos = await page.locator('#pos').textContent();
    await page.locator('section.run[data-run="0"] svg .mark').last().click();
    assert.notEqual(await page.locator('#pos').textContent(), pos, 'a click on a mark seeks');
    // Mid-run: caches full, stacks on the RCU queue in 6.18.
    const max = Number(await page.locator('#slider').getAttribute('max'));
    await page.locator('#slider').fill(String(Math.floor(max / 2)));
    await page.click('#nextStack');
    await page.locator('section.run[data-run="1"] .caches .chip').first().click();
    await page.screenshot({ path: screenshotPath('ui-compare.png'), fullPage: true });
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
    await ui.close();
  }
});
