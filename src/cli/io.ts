// Output files are written atomically: a temp file beside the target, then rename.
import { rename, writeFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}
