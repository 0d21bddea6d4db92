// The benchmark's posting client, shared by every row (the service, the per-event baseline and the
// bare-Express ceiling) so their accepted/s compare: up to 64 requests in flight, paced at `rate`
// per second or as fast as answers come ('max'); what is not acknowledged is retried, like Didomi.
import type { WorkItem } from '../test/support/didomi-workload.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const MAX_IN_FLIGHT = 64;

/** Posts every item; records each acknowledgement's time in `accepted`; returns the accepted rate per second. */
export async function postWebhooks(url: string, token: string | null, items: WorkItem[], rate: number | 'max', accepted: Map<WorkItem, number>) {
  const started = Date.now();
  let inflight = 0;
  const one = async (it: WorkItem) => {
    inflight++;
    try {
      // Like Didomi, which retries for at least five minutes (shared/reference/didomi.md): what is not
      // acknowledged (a 503 or 429 under load, a refused or reset connection) is sent again, backing off,
      // so a busy machine slows the run instead of failing it. A 4xx that is not about load is a bug: stop.
      const deadline = Date.now() + 300_000;
      for (let attempt = 0; ; attempt++) {
        let status = 0;
        try {
          const r = await fetch(`${url}/webhooks/didomi`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
            body: JSON.stringify(it.body),
          });
          await r.arrayBuffer();
          status = r.status;
        } catch {
          /* refused or reset: not acknowledged */
        }
        if (status >= 200 && status < 300) {
          accepted.set(it, Date.now());
          return;
        }
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) throw new Error(`webhook refused with ${status}`);
        if (Date.now() > deadline) throw new Error(`webhook not accepted in 5 minutes (last status ${status || 'no answer'})`);
        await sleep(Math.min(100 * 2 ** attempt, 2000));
      }
    } finally {
      inflight--;
    }
  };
  const pending: Promise<void>[] = [];
  for (let i = 0; i < items.length; i++) {
    if (rate !== 'max') {
      const due = started + (i * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    while (inflight >= MAX_IN_FLIGHT) await sleep(1);
    pending.push(one(items[i]));
  }
  await Promise.all(pending);
  return (items.length * 1000) / Math.max(1, Date.now() - started);
}
