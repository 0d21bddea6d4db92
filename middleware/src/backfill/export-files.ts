// Didomi's batch export (reference/didomi.md, "Batch export"): daily partitions
// `export-id={id}/date={YYYY-MM-DD}/users/`, newline-delimited JSON, gzipped, possibly several
// files, complete only once the partition's `_SUCCESS` marker exists.
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

export class ExportError extends Error {}

export interface Partition {
  dir: string;
  date: string | null;
  files: string[];
}

const DATE_DIR = /^date=(\d{4}-\d{2}-\d{2})$/;
const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const complete = (usersDir: string) => existsSync(join(usersDir, '_SUCCESS'));

/** Every `.../date=D/users` folder under root (root itself may be one), newest date first. */
function usersDirs(root: string, depth = 3): { dir: string; date: string | null }[] {
  if (basename(root) === 'users' && isDir(root)) {
    const m = DATE_DIR.exec(basename(join(root, '..')));
    return [{ dir: root, date: m?.[1] ?? null }];
  }
  if (depth === 0 || !isDir(root)) return [];
  return readdirSync(root)
    .flatMap((name) => usersDirs(join(root, name), depth - 1))
    .sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
}

/**
 * The partition to read: the given date's, or the newest complete one. A partition without
 * `_SUCCESS` is still being written by Didomi and is never read.
 */
export function findPartition(root: string, date?: string): Partition {
  if (!isDir(root)) throw new ExportError(`${root} is not a folder`);
  const all = usersDirs(root);
  if (!all.length) throw new ExportError(`no Didomi export partition (date=YYYY-MM-DD/users/) under ${root}`);
  const wanted = date ? all.filter((p) => p.date === date) : all;
  if (date && !wanted.length) throw new ExportError(`no partition date=${date} under ${root}`);
  const chosen = wanted.find((p) => complete(p.dir));
  if (!chosen) {
    throw new ExportError(`${wanted[0].dir} has no _SUCCESS marker: Didomi has not finished writing it${date ? '' : ', and no older partition is complete'}`);
  }
  const files = readdirSync(chosen.dir)
    .filter((f) => f.endsWith('.json.gz') || f.endsWith('.json') || f.endsWith('.ndjson'))
    .sort()
    .map((f) => join(chosen.dir, f));
  return { dir: chosen.dir, date: chosen.date, files };
}

/** The lines of one export file (gunzipped when it ends in .gz), with 1-based line numbers. */
export async function* exportLines(file: string): AsyncGenerator<{ line: string; n: number }> {
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim()) yield { line, n };
    }
  } catch (e) {
    throw new ExportError(`${file}: cannot be read after line ${n}: ${(e as Error).message}`);
  }
}
