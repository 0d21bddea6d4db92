// A throw-away PostgreSQL server for tests that kill, restart and disconnect the database
// (issue 11, item 2), never the machine's shared one: initdb in a temp dir, postgres on a free port,
// both run as the `postgres` OS user; SIGKILL goes to the whole process group (postmaster + backends).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PgServer {
  url: string;
  port: number;
  /** SIGKILL (or another signal) to the postmaster and every backend; resolves once all are gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and data (crash recovery); resolves when it accepts connections. */
  start(): Promise<void>;
  /** pg_terminate_backend on every client connection: clients get 57P01 (admin shutdown). Returns how many. */
  terminateBackends(): Promise<number>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : [];
  if (!versions.length) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin');
  return join(root, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  if (!Number.isInteger(uid)) throw new Error('no postgres OS user');
  return { uid, gid: id('-g') };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function startPgServer(): Promise<PgServer> {
  const bin = binDir();
  const user = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'pg-outage-'));
  chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'], {
    uid: user.uid,
    gid: user.gid,
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | null = null;
  const server: PgServer = {
    url,
    port,
    async start() {
      const c = spawn(
        join(bin, 'postgres'),
        // fsync=off spares the shared disk: a SIGKILLed server loses nothing the OS already has, and
        // that (not a power cut) is what these tests inject.
        ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=60', '-c', 'fsync=off'],
        { uid: user.uid, gid: user.gid, detached: true, stdio: 'ignore' },
      );
      child = c;
      for (let i = 0; ; i++) {
        if (c.exitCode !== null) throw new Error(`postgres exited with ${c.exitCode}`);
        const client = new pg.Client({ connectionString: url });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.end();
          return;
        } catch {
          if (i > 300) throw new Error('postgres did not start within 30 s');
          await sleep(100);
        }
      }
    },
    async kill(signal = 'SIGKILL') {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      process.kill(-c.pid!, signal); // the process group: postmaster and backends die together
      await exited;
      // orphaned backends must be gone before a restart can take the shared memory again
      for (let i = 0; i < 100 && spawnSync('pgrep', ['-g', String(c.pid)]).status === 0; i++) await sleep(50);
      child = null;
    },
    async terminateBackends() {
      const admin = new pg.Client({ connectionString: url });
      admin.on('error', () => undefined);
      await admin.connect();
      try {
        const r = await admin.query(
          `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        );
        return Number(r.rows[0].n);
      } finally {
        await admin.end();
      }
    },
    async stop() {
      await server.kill('SIGKILL').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
