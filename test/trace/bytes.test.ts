// The reader's byte fast path (EventLineParser.parseBytesInto, used on blocks
// of pure ASCII) against the string parser it stands in for: on every line of
// every example trace, and on real lines with random damage, it either gives
// exactly the string parser's record or declines (null) and lets it decide.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { EventLineParser, RecordView } from '../../src/trace/formats.ts';
import { EXAMPLES_DIR, examplePath } from './collect.ts';

const SEED = Number(process.env.KSTACK_SEED ?? 20251125);

/** The string parser's answer and the byte path's for text[lo, hi), both as plain records (null: no record / declined). */
function bothWays(text: string, lo: number, hi: number): { str: object | null; bytes: object | null } {
  const bytes = Buffer.from(text, 'latin1');
  const p = new EventLineParser();
  p.setText(text);
  const sv = p.parseRangeInto(lo, hi, 7, new RecordView());
  const str = sv === null ? null : { ...sv.toRecord(), family: p.family };
  const q = new EventLineParser();
  q.setText(text);
  const bv = q.parseBytesInto(bytes, text, lo, hi, 7, new RecordView());
  return { str, bytes: bv === null ? null : { ...bv.toRecord(), family: q.family } };
}

function exampleTexts(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const dir of ['', 'recorded/']) {
    for (const f of readdirSync(new URL(dir, EXAMPLES_DIR))) {
      if (f.endsWith('.trace.gz')) out.push({ name: dir + f, text: gunzipSync(readFileSync(examplePath(dir + f))).toString('latin1') });
    }
  }
  return out;
}

describe('parseBytesInto', () => {
  it('gives the string parser\'s record for every line of every example trace', () => {
    for (const { name, text } of exampleTexts()) {
      const bytes = Buffer.from(text, 'latin1');
      const p = new EventLineParser();
      const q = new EventLineParser();
      p.setText(text);
      q.setText(text);
      const sv = new RecordView();
      const bv = new RecordView();
      let lo = 0;
      let declined = 0;
      for (let lineNo = 1; lo < text.length; lineNo++) {
        const hi = text.indexOf('\n', lo);
        const s = p.parseRangeInto(lo, hi, lineNo, sv);
        const b = q.parseBytesInto(bytes, text, lo, hi, lineNo, bv);
        if (b === null) declined++;
        else assert.deepEqual(b.toRecord(), s?.toRecord(), `${name}:${lineNo}`);
        lo = hi + 1;
      }
      // Only header and comment lines are left to the string parser.
      assert.ok(declined < 20, `${name}: ${declined} lines declined`);
    }
  });

  it('on damaged real lines, agrees with the string parser or declines', () => {
    const lines = [
      '            bash-8455    [001] d..2.   845.354530: sched_wakeup_new: comm=bash pid=8515 prio=120 target_cpu=001',
      '          tbench-24596 [000] 861.115414: task_newtask: pid=28315 comm=tbench clone_flags=3d0f00 oom_score_adj=0',
      '  memfd:sealed-91-1234  (  1234) [003] .N.1. 12.000001: sched:sched_switch: prev_comm=a prev_pid=1',
    ];
    const alphabet = [' ', '\t', ':', '-', '.', '[', ']', '(', ')', '0', '9', 'a', 'Z', '/'];
    fc.assert(
      fc.property(
        fc.constantFrom(...lines),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...alphabet), fc.boolean()), { maxLength: 4 }),
        (line, edits) => {
          let l = line;
          for (const [at, ch, insert] of edits) {
            const i = at % (l.length + 1);
            l = l.slice(0, i) + ch + l.slice(insert ? i : i + 1);
          }
          const text = `x\n${l}\ny`;
          const { str, bytes } = bothWays(text, 2, 2 + l.length);
          if (bytes !== null) assert.deepEqual(bytes, str);
        },
      ),
      { seed: SEED, numRuns: 3000 },
    );
  });
});
