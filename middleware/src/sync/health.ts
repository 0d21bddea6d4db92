// What the heartbeat reports about this instance: today's counters, last success, last error.
export class SyncHealth {
  private readonly now: () => number;
  today = { date: '', accepted: 0, synced: 0, failed: 0 };
  lastSuccess: string | null = null;
  lastError: { at: string; message: string } | null = null;

  constructor(now: () => number) {
    this.now = now;
  }

  /** Counters restart at each UTC day. */
  rollDay() {
    const day = new Date(this.now()).toISOString().slice(0, 10);
    if (this.today.date !== day) this.today = { date: day, accepted: 0, synced: 0, failed: 0 };
  }

  accepted(n: number) {
    this.rollDay();
    this.today.accepted += n;
  }

  synced(n: number) {
    this.rollDay();
    this.today.synced += n;
    if (n) this.lastSuccess = new Date(this.now()).toISOString();
  }

  failed(n: number, message: string) {
    this.rollDay();
    this.today.failed += n;
    this.error(message);
  }

  error(message: string) {
    this.lastError = { at: new Date(this.now()).toISOString(), message };
  }
}
