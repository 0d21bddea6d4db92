// Initial load: every user of the chosen Didomi export partitions (`export-files.ts`) is queued as the user's full consent state
// (a `user.updated` with the export line as the new entity), through the same validation, durable
// store and last-writer-wins merge as webhooks. The batched engine then writes them like live
// traffic, so a backfill never overwrites a newer choice that arrived by webhook, is idempotent
// (an identical line has the same dedupe key), and its permanent failures become dead letters.
import type { NewEvent, Store } from '../store/types.ts';
import { parseWebhook, toNewEvent, WebhookValidationError } from '../didomi/schema.ts';
import { ExportError, exportLines, findPartitions, MAX_LINE_BYTES, type Partition } from './export-files.ts';

export interface BackfillReport {
  /** One per export: its newest complete partition, or the `date` one. */
  partitions: Partition[];
  lines: number;
  queued: number;
  duplicates: number;
  rejected: number;
  /** The first rejections, with file, line and reason. */
  rejections: { file: string; line: number; reason: string }[];
  /** Per file: lines read, and why it could not be read to the end (a folder, a corrupt gzip). */
  files: { file: string; lines: number; error?: string }[];
  unreadable: number;
}

export interface BackfillOptions {
  root: string;
  date?: string;
  /** Events per store transaction. */
  chunk?: number;
}

const MAX_REPORTED = 20;

/** Without a store (a dry run) the lines are only validated and counted. */
export async function backfill(store: Store | null, o: BackfillOptions): Promise<BackfillReport> {
  const partitions = findPartitions(o.root, o.date);
  const report: BackfillReport = { partitions, lines: 0, queued: 0, duplicates: 0, rejected: 0, rejections: [], files: [], unreadable: 0 };
  const chunk = o.chunk ?? 1000;
  let pending: NewEvent[] = [];
  const flush = async () => {
    if (!pending.length) return;
    const batch = pending;
    pending = [];
    if (!store) {
      report.queued += batch.length;
      return;
    }
    const { stored } = await store.append(batch);
    for (const s of stored) {
      if (s) report.queued++;
      else report.duplicates++;
    }
  };
  const reject = (file: string, line: number, reason: string) => {
    report.rejected++;
    if (report.rejections.length < MAX_REPORTED) report.rejections.push({ file, line, reason });
  };
  for (const file of partitions.flatMap((p) => p.files)) {
    const read = { file, lines: 0 } as BackfillReport['files'][number];
    report.files.push(read);
    try {
      for await (const l of exportLines(file)) {
        read.lines++;
        if ('tooLong' in l) {
          report.lines++;
          reject(file, l.n, `line longer than ${MAX_LINE_BYTES} bytes (${l.tooLong} bytes): not a Didomi user`);
          continue;
        }
        await take(file, l.line, l.n);
      }
    } catch (e) {
      if (!(e instanceof ExportError)) throw e;
      // One unreadable file (a folder named like one, a corrupt gzip) is reported; the others are read.
      read.error = e.message.startsWith(`${file}: `) ? e.message.slice(file.length + 2) : e.message;
      report.unreadable++;
    }
  }
  await flush();
  return report;

  async function take(file: string, line: string, n: number) {
    report.lines++;
    let user: unknown;
    try {
      user = JSON.parse(line);
    } catch {
      reject(file, n, 'not JSON');
      return;
    }
    try {
      pending.push(toNewEvent(parseWebhook({ type: 'user.updated', parameters: { new_entity: user } })));
    } catch (e) {
      if (!(e instanceof WebhookValidationError)) throw e;
      reject(file, n, e.details.map((d) => `${d.path.replace(/^parameters\.new_entity\.?/, '') || '(user)'}: ${d.message}`).join('; '));
      return;
    }
    if (pending.length >= chunk) await flush();
  }
}
