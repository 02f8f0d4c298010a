#!/usr/bin/env node
// npm run build (and `prepare`, so `npm ci` runs it): compiles src/ to dist/ with
// tsc, copies the non-TypeScript files beside it, and stamps the build. The
// `kstack` command (bin/kstack.js) runs dist/ while the stamp is newer than
// every file in src/, else src/ through tsx. Why build at all: tsx transforms
// with esbuild's keepNames, which wraps every function and class in a name
// definition, and the compiled code replays a trace about 5% faster and starts
// without the loader.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
for (const file of walk('src')) {
  if (file.endsWith('.ts')) continue;
  const to = join('dist', relative('src', file));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(file, to);
}
writeFileSync('dist/.stamp', 'built by scripts/build.mjs: dist/ is used while this file is newer than every file in src/\n');
