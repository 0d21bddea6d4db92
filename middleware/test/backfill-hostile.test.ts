// Issue 11 item 8: the backfill command never dies on what it reads. A gzip bomb (one line of
// hundreds of MB), a folder named like a data file and a corrupt gzip file are each reported on
// their own, the rest of the partition is read, memory stays bounded (the CLI runs with the
// service's 128 MB heap), and the command exits non-zero cleanly, without a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGzip, gzipSync } from 'node:zlib';
import { NODE_FLAGS } from '../src/bin/node-flags.ts';
import { rsaKeyPair } from '../../test/support/keys.ts';
import { userUpdated } from '../../test/support/didomi-events.ts';
import { PURPOSE } from '../../test/support/org-fixture.ts';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../src/bin/didomi-sync.ts');
const user = (email: string) => JSON.stringify(userUpdated(email, new Date('2026-11-20T10:00:00Z'), { purposes: { [PURPOSE]: true } }).parameters.new_entity);

/** A gzip file holding: a good line, one line of `mb` MB (never in memory here), a good line. */
async function gzipBomb(path: string, mb: number) {
  const chunk = Buffer.alloc(1 << 20, 'a');
  async function* parts() {
    yield Buffer.from(user('before-bomb@example.com') + '\n{"pad":"');
    for (let i = 0; i < mb; i++) yield chunk;
    yield Buffer.from('"}\n' + user('after-bomb@example.com') + '\n');
  }
  await pipeline(Readable.from(parts()), createGzip({ level: 1 }), createWriteStream(path));
}

test('backfill CLI: a gzip bomb, a folder named like a data file and a corrupt file are each reported; the rest is read; exit 1 without a crash', async () => {
  const root = mkdtempSync(join(tmpdir(), 'didomi-export-'));
  const dir = join(root, 'export-id=exp-1', 'date=2026-11-22', 'users');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'part-0000.json.gz'), gzipSync([user('a@example.com'), user('b@example.com')].join('\n') + '\n'));
  await gzipBomb(join(dir, 'part-0001.json.gz'), 640);
  mkdirSync(join(dir, 'part-0002.json.gz')); // a folder named like a data file
  writeFileSync(join(dir, 'part-0003.json.gz'), 'this is not gzip');
  writeFileSync(join(dir, 'part-0004.json.gz'), gzipSync(user('c@example.com') + '\n'));
  writeFileSync(join(dir, '_SUCCESS'), '');
  const keys = rsaKeyPair();
  const env = {
    ...process.env,
    SF_CLIENT_ID: 'x',
    SF_USERNAME: 'x@example.com',
    SF_PRIVATE_KEY: keys.privateKey,
    DIDOMI_WEBHOOK_CLIENT_ID: 'x',
    DIDOMI_WEBHOOK_CLIENT_SECRET: 'x'.repeat(16),
    WEBHOOK_TOKEN_SECRET: 'x'.repeat(32),
    SQLITE_PATH: join(root, 'store.sqlite'),
    LOG_LEVEL: 'silent',
  };
  const r = await run(process.execPath, [...NODE_FLAGS, BIN, 'backfill', root, '--dry-run'], { env, maxBuffer: 1 << 20 }).then(
    (x) => ({ code: 0, out: x.stdout, err: x.stderr }),
    (e) => ({ code: e.code as number, out: e.stdout as string, err: e.stderr as string, signal: e.signal as string }),
  );
  assert.equal(r.code, 1, `exit code (stderr: ${r.err.slice(0, 500)})`);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  assert.match(r.out, /5 file\(s\)/);
  assert.match(r.out, /5 valid/, 'a, b, the lines around the bomb, and c are read');
  assert.match(r.out, /part-0001\.json\.gz:2: line longer than \d+ bytes/);
  assert.match(r.out, /part-0002\.json\.gz: not a file/);
  assert.match(r.out, /part-0003\.json\.gz: unreadable/);
  assert.match(r.out, /2 file\(s\) unreadable/);
});
