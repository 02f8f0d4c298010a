// The HTML report: deterministic bytes, self-contained (no network), and it
// renders in a real headless Chromium without console errors.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { run } from '../../src/cli/report.ts';
import { browserSkipReason, openBrowser, screenshotPath } from '../ui/browser.ts';

const dir = mkdtempSync(join(tmpdir(), 'kstack-report-'));
const simArgs = ['--sim', 'burst:k=8', '--config', 'linux-4.8,linux-4.9,linux-6.18', '--ops', '2000', '--seed', '7'];

async function report(name: string, args: string[]): Promise<string> {
  const out = join(dir, name);
  mkdirSync(dirname(out), { recursive: true });
  const code = await run([...args, '-o', out]);
  assert.equal(code, 0);
  return readFileSync(out, 'utf8');
}

test('a --sim report is the same bytes twice and needs no network', async () => {
  const a = await report('one/sim.html', simArgs);
  const b = await report('two/sim.html', simArgs);
  assert.equal(a, b);
  assert.ok(!/\b(src|href)="https?:/.test(a), 'no external scripts or styles');
  assert.ok(a.includes('seed') && a.includes('burst:k=8'), 'parameters and seed are shown');
});

test('a --trace report validates the public trace and shows its confusion matrix', async () => {
  const html = await report('trace.html', ['--trace', 'examples/traces/pthread-loop.trace.gz', '--config', 'linux-6.18']);
  assert.ok(html.includes('observed hit'), 'confusion matrix');
  assert.ok(html.includes('kernel (observed)'), 'the kernel row');
});

test('the report renders in Chromium: charts, no console errors', { timeout: 30_000, skip: browserSkipReason() ?? false }, async () => {
  const s = await openBrowser();
  try {
    const file = join(dir, 'one', 'sim.html');
    await s.page.goto(`file://${file}`);
    await s.page.waitForSelector('.uplot');
    const charts = await s.page.locator('.uplot').count();
    // stack memory, RCU, lazy, takes + two per config (hit rate, occupancy)
    assert.equal(charts, 4 + 2 * 2, "stack memory, RCU, lazy, takes; hit rate and occupancy for 4.9 and 6.18 (4.8 has no cache)");
    await s.page.screenshot({ path: screenshotPath('report-sim.png'), fullPage: true });
    await s.page.goto(`file://${join(dir, 'trace.html')}`);
    await s.page.waitForSelector('.uplot');
    await s.page.screenshot({ path: screenshotPath('report-trace.png'), fullPage: true });
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
