// `didomi-sync backfill <export folder> [--date YYYY-MM-DD] [--dry-run]`: queues a Didomi export
// partition (the newest complete one of each export, or --date's) into the store; the service (now, or when it next starts) writes it to Salesforce.
import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { openStore } from '../store/open.ts';
import { backfill, type BackfillReport } from '../backfill/backfill.ts';
import { ExportError } from '../backfill/export-files.ts';

function print(r: BackfillReport, dryRun: boolean) {
  console.log(
    `${dryRun ? 'Dry run: ' : ''}${r.partitions.map((p) => `${p.dir}${p.date ? ` (${p.date})` : ''}`).join(', ')}: ` +
      `${r.partitions.reduce((n, p) => n + p.files.length, 0)} file(s), ${r.lines} line(s): ` +
      `${r.queued} ${dryRun ? 'valid' : 'queued'}, ${r.duplicates} already queued, ${r.rejected} rejected`,
  );
  for (const f of r.files) console.log(`  ${f.file}: ${f.error ?? `${f.lines} line(s)`}`);
  for (const x of r.rejections) console.log(`  rejected ${x.file}:${x.line}: ${x.reason}`);
  if (r.rejected > r.rejections.length) console.log(`  ... and ${r.rejected - r.rejections.length} more`);
  if (r.unreadable) console.log(`  ${r.unreadable} file(s) unreadable`);
}

/** Returns the exit code: 0 done, 1 some lines rejected or files unreadable, 2 nothing could be done. */
export async function backfillCommand(config: Config, argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { date: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } } });
  } catch (e) {
    console.error(`didomi-sync backfill: ${(e as Error).message}`);
    return 2;
  }
  const [root] = args.positionals;
  if (!root) {
    console.error('usage: didomi-sync backfill <export folder> [--date YYYY-MM-DD] [--dry-run]');
    return 2;
  }
  const dryRun = args.values['dry-run'];
  let store = null;
  try {
    if (!dryRun) {
      store = await openStore(config);
      await store.migrate();
    }
    const report = await backfill(store, { root, date: args.values.date });
    print(report, dryRun);
    return report.rejected || report.unreadable ? 1 : 0;
  } catch (e) {
    const msg = (e as Error).message;
    if (e instanceof ExportError) console.error(`didomi-sync backfill: ${msg}`);
    else if (/database is locked/i.test(msg))
      console.error('didomi-sync backfill: the SQLite store is in use by a running service; stop it, backfill, then start it again (or use PostgreSQL)');
    else console.error(`didomi-sync backfill: ${msg}`);
    return 2;
  } finally {
    await store?.close().catch(() => undefined);
  }
}
