// Which code the `kstack` command and the benchmarks run: the compiled build in
// dist/ (scripts/build.mjs; `npm ci` makes it) while it is newer than every file
// in src/, else src/ itself through the tsx loader, so an edited tree never
// runs stale code.
import { readdirSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url);

function newestMtimeMs(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = new URL(e.name + (e.isDirectory() ? '/' : ''), dir);
    newest = Math.max(newest, e.isDirectory() ? newestMtimeMs(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** True when dist/ holds a build at least as new as every source file (`at`: the project root, a file: URL ending in /). */
export function builtIsFresh(at = root) {
  try {
    return statSync(new URL('dist/.stamp', at)).mtimeMs >= newestMtimeMs(new URL('src/', at));
  } catch {
    return false;
  }
}

/**
 * Imports `path` (relative to src/, without extension, e.g. 'cli/main') from
 * dist/ when the build is fresh, else from src/ after registering tsx.
 */
export async function importEntry(path) {
  if (builtIsFresh()) return import(new URL(`dist/${path}.js`, root).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(`src/${path}.ts`, root).href);
}
