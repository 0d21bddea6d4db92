// Housekeeping: periodic tasks, each on its own timer (heartbeat every HEARTBEAT_MS, configuration
// and retry requests every CONFIG_REFRESH_MS, dead letters left unpushed, ...). A task never overlaps itself; a failed run is
// logged and the next one tries again. New periodic work is one more entry in the task list.
import type { Logger } from 'pino';

export interface HousekeepingTask {
  name: string;
  /** Delay before the next run, read after each run (so a task can poll faster until it succeeds). */
  everyMs(): number;
  run(): Promise<void>;
  /** Runs once when housekeeping starts (default), or first after everyMs. */
  atStart?: boolean;
}

export class Housekeeping {
  private readonly tasks: HousekeepingTask[];
  private readonly logger: Logger;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(tasks: HousekeepingTask[], logger: Logger) {
    this.tasks = tasks;
    this.logger = logger;
  }

  /**
   * Runs the tasks due at start (side by side), each scheduled on its own timer once its first run ends;
   * resolves when those first runs have ended. Nothing waits on one task's first run but that task itself.
   */
  async start(): Promise<void> {
    await Promise.all(
      this.tasks.map(async (t) => {
        if (t.atStart !== false) await this.run(t);
        this.schedule(t);
      }),
    );
  }

  /** Runs one task now, or joins its run in progress. */
  run(t: HousekeepingTask): Promise<void> {
    let p = this.running.get(t.name);
    if (!p) {
      p = t
        .run()
        .catch((e) => this.logger.warn({ task: t.name, err: (e as Error).message }, 'housekeeping task failed; the next run retries'))
        .finally(() => this.running.delete(t.name));
      this.running.set(t.name, p);
    }
    return p;
  }

  private schedule(t: HousekeepingTask) {
    if (this.stopped) return;
    this.timers.set(
      t.name,
      setTimeout(async () => {
        await this.run(t);
        this.schedule(t);
      }, t.everyMs()),
    );
  }

  /** Clears the timers; resolves when the runs in progress end. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    await Promise.all(this.running.values());
  }
}
