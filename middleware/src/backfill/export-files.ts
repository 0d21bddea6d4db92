// Didomi's batch export (reference/didomi.md, "Batch export"): daily partitions
// `export-id={id}/date={YYYY-MM-DD}/users/`, newline-delimited JSON, gzipped, possibly several
// files, complete only once the partition's `_SUCCESS` marker exists.
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream';
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
