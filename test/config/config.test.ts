import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { applyKconfig, ConfigError, getPreset, parseSet, resolveConfigs } from '../../src/config/index.ts';

test('--set sweeps expand in argument order, each a named config', () => {
  const cs = resolveConfigs({ names: ['linux-4.9', 'linux-6.18'], sets: [parseSet('NR_CACHED_STACKS=1,4')] });
  assert.deepEqual(
    cs.map((c) => [c.name, c.NR_CACHED_STACKS]),
    [
      ['linux-4.9+NR_CACHED_STACKS=1', 1],
      ['linux-4.9+NR_CACHED_STACKS=4', 4],
      ['linux-6.18+NR_CACHED_STACKS=1', 1],
      ['linux-6.18+NR_CACHED_STACKS=4', 4],
    ],
  );
});

test('bad knobs and impossible combinations are refused with the reason', () => {
  assert.throws(() => parseSet('NR_CACHED=2'), (e) => e instanceof ConfigError && /unknown knob/.test(e.message));
  assert.throws(() => parseSet('VMAP_STACK=maybe'), /expected y or n/);
  assert.throws(() => resolveConfigs({ names: ['linux-4.8'], sets: [parseSet('NR_CACHED_STACKS=2')] }), /needs VMAP_STACK=y/);
  assert.throws(() => resolveConfigs({ names: ['linux-9.9'], sets: [] }), /unknown config/);
});

test('--kconfig reads a real .config, plain or gzip: KASAN doubles THREAD_SIZE, VMAP_STACK=n turns the cache off', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kstack-'));
  const text = '# comment\nCONFIG_VMAP_STACK=y\nCONFIG_THREAD_INFO_IN_TASK=y\nCONFIG_KASAN=y\nCONFIG_MEMCG=y\n';
  writeFileSync(join(dir, 'a.config'), text);
  writeFileSync(join(dir, 'config.gz'), gzipSync(text));
  for (const f of ['a.config', 'config.gz']) {
    const c = applyKconfig(getPreset('linux-6.18'), join(dir, f));
    assert.equal(c.THREAD_SIZE_ORDER, 3);
    assert.equal(c.NR_CACHED_STACKS, 2);
  }
  writeFileSync(join(dir, 'b.config'), '# CONFIG_VMAP_STACK is not set\n');
  assert.equal(applyKconfig(getPreset('linux-6.18'), join(dir, 'b.config')).NR_CACHED_STACKS, 0);
  writeFileSync(join(dir, 'bad.config'), 'CONFIG_X=y\nthis is not kconfig\n');
  assert.throws(() => applyKconfig(getPreset('linux-6.18'), join(dir, 'bad.config')), /bad.config:2: expected CONFIG_NAME=value/);
});
