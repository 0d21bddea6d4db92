// Didomi's batch export (reference/didomi.md, "Batch export"): a bucket holding daily Hive-style
// partitions `<bucket>/data/export-id={id}/date={YYYY-MM-DD}/users/`, newline-delimited JSON,
// gzipped, possibly several files, complete only once the partition's `_SUCCESS` marker exists.
// The command may be pointed at any level of that tree: the bucket, `data/`, an `export-id=`
// folder, a `date=` partition or its `users/` folder. It reads, for each export, the newest
// complete partition (each configured export has its own export-id, and each daily batch is "a
// dump of the users", so the newest is all an initial load needs;
// https://developers.didomi.io/integrations/batch-export), or the `--date` one.
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

export class ExportError extends Error {}

export interface Partition {
  dir: string;
  date: string | null;
  exportId: string | null;
  files: string[];
}

const DATE_DIR = /^date=(\d{4}-\d{2}-\d{2})$/;
const EXPORT_DIR = /^export-id=(.+)$/;
const LAYOUT = '<bucket>/data/export-id=…/date=YYYY-MM-DD/users/';
const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const complete = (usersDir: string) => existsSync(join(usersDir, '_SUCCESS'));
const subDirs = (dir: string, re: RegExp) =>
  readdirSync(dir)
    .filter((n) => re.test(n) && isDir(join(dir, n)))
    .map((n) => join(dir, n));

interface Candidate {
  dir: string;
  date: string | null;
}

/** The exports under `root` (whatever level of the layout it is), each with its partitions newest first. */
function exportsUnder(root: string): { exportId: string | null; partitions: Candidate[] }[] {
  const name = basename(root);
  const exportIdOf = (dir: string) => EXPORT_DIR.exec(basename(dir))?.[1] ?? null;
  if (name === 'users') {
    const dateDir = dirname(root);
    return [{ exportId: exportIdOf(dirname(dateDir)), partitions: [{ dir: root, date: DATE_DIR.exec(basename(dateDir))?.[1] ?? null }] }];
  }
  if (DATE_DIR.test(name)) return [{ exportId: exportIdOf(dirname(root)), partitions: partitionsOf([root]) }];
  const dates = subDirs(root, DATE_DIR);
  if (EXPORT_DIR.test(name) || dates.length) return [{ exportId: exportIdOf(root), partitions: partitionsOf(dates) }];
  const exports = subDirs(root, EXPORT_DIR).sort();
  if (exports.length) return exports.map((dir) => ({ exportId: exportIdOf(dir), partitions: partitionsOf(subDirs(dir, DATE_DIR)) }));
  return isDir(join(root, 'data')) ? exportsUnder(join(root, 'data')) : [];
}

/** The `users/` folders of these `date=` folders, newest date first. */
function partitionsOf(dateDirs: string[]): Candidate[] {
  return dateDirs
    .filter((d) => isDir(join(d, 'users')))
    .map((d) => ({ dir: join(d, 'users'), date: DATE_DIR.exec(basename(d))![1] }))
    .sort((a, b) => b.date.localeCompare(a.date));
}

/**
 * The partitions to read, one per export: the given date's, or the newest complete one. A partition
 * without `_SUCCESS` is still being written by Didomi and is never read; an export with no complete
 * partition (or, with a date, no export with that date) stops the backfill before anything is queued.
 */
export function findPartitions(root: string, date?: string): Partition[] {
  if (!isDir(root)) throw new ExportError(`${root} is not a folder`);
  const exports = exportsUnder(root).filter((e) => e.partitions.length);
  if (!exports.length) throw new ExportError(`no Didomi export partition under ${root} (expected ${LAYOUT})`);
  const chosen: Partition[] = [];
  const withDate = exports.filter((e) => !date || e.partitions.some((p) => p.date === date));
  if (!withDate.length) throw new ExportError(`no partition date=${date} under ${root}`);
  for (const e of withDate) {
    const wanted = date ? e.partitions.filter((p) => p.date === date) : e.partitions;
    const p = wanted.find((c) => complete(c.dir));
    if (!p) {
      const what = e.exportId ? `export-id=${e.exportId}: ` : '';
      throw new ExportError(
        `${what}${wanted[0].dir} has no _SUCCESS marker: Didomi has not finished writing it${date ? '' : ', and no older partition is complete'}`,
      );
    }
    const files = readdirSync(p.dir)
      .filter((f) => f.endsWith('.json.gz') || f.endsWith('.json') || f.endsWith('.ndjson'))
      .sort()
      .map((f) => join(p.dir, f));
    chosen.push({ ...p, exportId: e.exportId, files });
  }
  return chosen;
}

/** A Didomi export line is one user (a few kB); anything longer is reported, never held in memory. */
export const MAX_LINE_BYTES = 1024 * 1024;

export type ExportLine = { n: number; line: string } | { n: number; tooLong: number };

/**
 * The lines of one export file (gunzipped when it ends in .gz), with 1-based line numbers. Memory
 * stays bounded whatever the file holds (a gzip bomb is one huge line): a line over `maxBytes` is
 * skipped and yielded as `tooLong`. Any read or gunzip failure is an ExportError naming the file.
 */
export async function* exportLines(file: string, maxBytes = MAX_LINE_BYTES): AsyncGenerator<ExportLine> {
  let n = 0;
  try {
    if (!statSync(file).isFile()) throw new ExportError(`${file}: not a file`);
    const raw = createReadStream(file);
    // pipeline() forwards a read error to the gunzip stream, so the loop below sees it.
    const input = file.endsWith('.gz') ? pipeline(raw, createGunzip(), () => undefined) : raw;
    let parts: Buffer[] = [];
    let size = 0;
    let skipped = 0; // bytes of the current line dropped once it passed maxBytes
    const end = function* (): Generator<ExportLine> {
      n++;
      if (skipped) yield { n, tooLong: skipped + size };
      else {
        const line = Buffer.concat(parts, size).toString('utf8').replace(/\r$/, '');
        if (line.trim()) yield { n, line };
      }
      parts = [];
      size = 0;
      skipped = 0;
    };
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let from = 0;
      for (let nl = chunk.indexOf(10, from); ; nl = chunk.indexOf(10, from)) {
        const piece = chunk.subarray(from, nl < 0 ? chunk.length : nl);
        if (skipped || size + piece.length > maxBytes) {
          skipped += size + piece.length;
          parts = [];
          size = 0;
        } else if (piece.length) {
          parts.push(Buffer.from(piece));
          size += piece.length;
        }
        if (nl < 0) break;
        yield* end();
        from = nl + 1;
      }
    }
    if (size || skipped) yield* end();
  } catch (e) {
    if (e instanceof ExportError) throw e;
    throw new ExportError(`${file}: unreadable after line ${n}: ${(e as Error).message}`);
  }
}
