// The bare-Express ceiling, measured in the same run as the service: a child process started with the
// service's Node flags (middleware/src/bin/node-flags.ts), posted the same bodies by the same client.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS } from '../middleware/src/bin/node-flags.ts';
import { ROOT } from '../test/support/stack.ts';
import type { WorkItem } from '../test/support/didomi-workload.ts';
import { postWebhooks } from './post-webhooks.ts';

export interface Ceiling {
  acceptedPerSec: number;
  peakRssMb: number;
}

/** Peak RSS (VmHWM) of a live process, in MB. */
export function peakRssMb(pid: number): number {
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
}

/** The bare Express app as a child process; `extraFlags` e.g. --cpu-prof. */
export async function startBareExpress(extraFlags: string[] = []) {
  const child = spawn(process.execPath, [...NODE_FLAGS, ...extraFlags, join(ROOT, 'bench/bare-express-app.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  const url = await new Promise<string>((res, rej) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"url":"(http[^"]+)"/.exec(buf);
      if (m) res(m[1]);
    });
    child.once('exit', (code) => rej(new Error(`bare Express exited with ${code} before listening`)));
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Max accepted/s of bare Express for these items (posted with `token`, like the service's), and its peak RSS. */
export async function measureCeiling(items: WorkItem[], token: string | null): Promise<Ceiling> {
  const app = await startBareExpress();
  try {
    const acceptedPerSec = await postWebhooks(app.url, token, items, 'max', new Map());
    return { acceptedPerSec, peakRssMb: peakRssMb(app.pid) };
  } finally {
    await app.stop();
  }
}
