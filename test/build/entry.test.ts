// The kstack command runs the compiled build (dist/) only while it is at least
// as new as every source file (bin/entry.js), and the build gives the same
// output as the sources.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { builtIsFresh } from '../../bin/entry.js';

const scratch = mkdtempSync(join(tmpdir(), 'kstack-entry-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A project tree with one source file and, if `stampAt` is given, a build stamped then (seconds since the epoch). */
function tree(name: string, srcAt: number, stampAt: number | null): URL {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'src', 'kernel'), { recursive: true });
  const file = join(dir, 'src', 'kernel', 'fork.ts');
  writeFileSync(file, 'export {};\n');
  utimesSync(file, srcAt, srcAt);
  if (stampAt !== null) {
    mkdirSync(join(dir, 'dist'), { recursive: true });
    writeFileSync(join(dir, 'dist', '.stamp'), 'stamp\n');
    utimesSync(join(dir, 'dist', '.stamp'), stampAt, stampAt);
  }
  return pathToFileURL(`${dir}/`);
}

describe('bin/entry.js', () => {
  it('uses the build only while its stamp is at least as new as every source file', () => {
    assert.equal(builtIsFresh(tree('fresh', 1_000_000, 1_000_100)), true);
    assert.equal(builtIsFresh(tree('edited', 1_000_200, 1_000_100)), false, 'a source file edited after the build');
    assert.equal(builtIsFresh(tree('unbuilt', 1_000_000, null)), false, 'no build');
  });

  it('the kstack command gives the same output from the build and from the sources', (t) => {
    t.diagnostic(builtIsFresh() ? 'bin/kstack.js ran dist/' : 'dist/ is missing or older than src/: both runs used src/');
    const args = ['replay', 'examples/traces/bash-true-loop.trace.gz', '--validate', '--quiet', '--json'];
    const viaBin = spawnSync(process.execPath, ['bin/kstack.js', ...args], { encoding: 'utf8' });
    const viaSrc = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
    assert.equal(viaBin.status, 0, viaBin.stderr);
    assert.equal(viaSrc.status, 0, viaSrc.stderr);
    assert.ok(viaBin.stdout.length > 1000);
    assert.equal(viaBin.stdout, viaSrc.stdout);
  });
});
