// Retention (issue 11, item 6): inbox events folded into a healthy user's state are deleted once
// they are RETENTION_DAYS old (kept that long for audit), so the store stays flat instead of growing
// by every event ever received. Dead letters are not touched: they stay until resolved in the org.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Store } from '../store/types.ts';

const DAY_MS = 86_400_000;
/** Rows per delete: short transactions, so appends (and their group commit) never wait long. */
const CHUNK = 5000;

export interface RetentionOptions {
  store: Pick<Store, 'prune'>;
  retentionDays: number;
  everyMs: number;
  logger: Logger;
  now?: () => number;
}

/** Deletes everything prunable now, chunk by chunk; returns how many inbox rows went. */
export async function pruneOnce(o: Omit<RetentionOptions, 'everyMs' | 'logger'>): Promise<number> {
  const before = new Date((o.now ?? Date.now)() - o.retentionDays * DAY_MS);
  let total = 0;
  for (;;) {
    const n = await o.store.prune(before, CHUNK);
    total += n;
    if (n < CHUNK) return total;
    await nextTurn(); // let waiting appends in between chunks
  }
}

/** Prunes now and then every `everyMs`; stop() waits for a run in progress. */
export function startRetention(o: RetentionOptions): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const run = () => {
    running = pruneOnce(o).then(
      (n) => {
        if (n) o.logger.info({ events: n, retentionDays: o.retentionDays }, 'old inbox events pruned');
      },
      (e) => o.logger.warn({ err: (e as Error).message }, 'pruning failed; next run retries'),
    );
    void running.then(() => {
      if (!stopped) timer = setTimeout(run, o.everyMs);
    });
  };
  run();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
