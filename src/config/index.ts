// Resolves `--config NAME --set K=V --kconfig FILE` into KernelConfigs.
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { ConfigError, type KernelConfig, type KnobName, parseKnobValue, validateConfig } from './knobs.ts';
import { DEFAULT_PRESET, PRESETS } from './presets.ts';

export { ConfigError, KNOBS, type KernelConfig, type KnobName } from './knobs.ts';
export { PRESETS, DEFAULT_PRESET } from './presets.ts';

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

export function getPreset(name: string): KernelConfig {
  const p = PRESETS[name];
  if (!p) throw new ConfigError(`unknown config '${name}'; presets: ${presetNames().join(', ')}`);
  return { ...p };
}

/** One `--set` value: `K=V` or `K=V1,V2,...` (a sweep, expanded by expandSets). */
export interface KnobSetting {
  knob: KnobName;
  raw: string[];
}

export function parseSet(arg: string): KnobSetting {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set ${arg}: expected KNOB=VALUE`);
  const name = arg.slice(0, eq).replace(/^CONFIG_/, '');
  const raw = arg.slice(eq + 1).split(',');
  for (const r of raw) parseKnobValue(name, r);
  return { knob: name as KnobName, raw };
}

/** The cross product of swept knobs, in argument order, so output order is deterministic. */
export function expandSets(settings: KnobSetting[]): Array<Array<[KnobName, string]>> {
  let combos: Array<Array<[KnobName, string]>> = [[]];
  for (const s of settings) {
    const next: Array<Array<[KnobName, string]>> = [];
    for (const c of combos) for (const v of s.raw) next.push([...c, [s.knob, v]]);
    combos = next;
  }
  return combos;
}

export function applySets(base: KernelConfig, sets: Array<[KnobName, string]>): KernelConfig {
  const c: KernelConfig = { ...base };
  const rec = c as unknown as Record<string, unknown>;
  for (const [k, raw] of sets) {
    const [knob, v] = parseKnobValue(k, raw);
    rec[knob] = v;
  }
  if (sets.length > 0) c.name = `${base.name}+${sets.map(([k, v]) => `${k}=${v}`).join('+')}`;
  validateConfig(c);
  return c;
}

/**
 * Reads the knobs a real kernel `.config` defines (plain or gzip, as /proc/config.gz):
 * CONFIG_VMAP_STACK, CONFIG_THREAD_INFO_IN_TASK, CONFIG_KASAN (doubles THREAD_SIZE on x86_64),
 * CONFIG_MEMCG (kernel stack charging), CONFIG_HOTPLUG_CPU. The version-dependent
 * behaviour (cache policy, accounting) stays that of the base preset.
 */
export function applyKconfig(base: KernelConfig, path: string): KernelConfig {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new ConfigError(`--kconfig ${path}: ${(e as Error).message}`);
  }
  const text = buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf).toString('utf8') : buf.toString('utf8');
  const seen = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    const m = /^(CONFIG_[A-Z0-9_]+)=(.*)$/.exec(line.trim());
    const unset = /^# (CONFIG_[A-Z0-9_]+) is not set$/.exec(line.trim());
    if (m) seen.set(m[1], m[2]);
    else if (unset) seen.set(unset[1], 'n');
    else if (line.trim() !== '' && !line.startsWith('#')) {
      throw new ConfigError(`${path}:${i + 1}: expected CONFIG_NAME=value or '# CONFIG_NAME is not set', got '${line.slice(0, 80)}'`);
    }
  });
  if (seen.size === 0) throw new ConfigError(`${path}: no CONFIG_ lines; is this a kernel .config?`);
  const c: KernelConfig = { ...base, name: `${base.name}+kconfig` };
  const yes = (k: string): boolean | undefined => (seen.has(k) ? seen.get(k) === 'y' : undefined);
  const vmap = yes('CONFIG_VMAP_STACK');
  const tiit = yes('CONFIG_THREAD_INFO_IN_TASK');
  const kasan = yes('CONFIG_KASAN');
  const memcg = yes('CONFIG_MEMCG');
  if (tiit !== undefined) c.THREAD_INFO_IN_TASK = tiit;
  if (vmap !== undefined) c.VMAP_STACK = vmap;
  if (kasan !== undefined) c.THREAD_SIZE_ORDER = kasan ? 3 : 2; // arch/x86/include/asm/page_64_types.h
  if (memcg !== undefined) c.MEMCG_KMEM = memcg;
  if (!c.VMAP_STACK) c.NR_CACHED_STACKS = 0;
  if (!c.THREAD_INFO_IN_TASK) {
    c.STACK_FREE = 'rcu';
    if (c.CACHE_FULL === 'rcu-retry') c.CACHE_FULL = 'vfree-atomic';
  }
  validateConfig(c);
  return c;
}

export interface ConfigRequest {
  names: string[];
  sets: KnobSetting[];
  kconfig?: string;
}

/** Every config a command runs: each preset × each swept --set combination. */
export function resolveConfigs(req: ConfigRequest): KernelConfig[] {
  const names = req.names.length > 0 ? req.names : [DEFAULT_PRESET];
  const out: KernelConfig[] = [];
  for (const n of names) {
    let base = getPreset(n);
    if (req.kconfig) base = applyKconfig(base, req.kconfig);
    for (const combo of expandSets(req.sets)) out.push(applySets(base, combo));
  }
  return out;
}
