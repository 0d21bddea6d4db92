// Memory (issue 17): a dependency only one configuration uses is imported by that configuration alone,
// so it takes no memory elsewhere: pg with PostgreSQL, gRPC + protobufjs + avsc with the change event
// subscriber (REVERSE_MODE=cdc and the Didomi API configured). Checked in a child process that records
// every module Node loads (module.registerHooks) while the service is built as `serve` builds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { requiredEnv } from './support/required-env.ts';
import { TEST_DATABASE_URL } from '../../test/support/stack.ts';

const src = (p: string) => pathToFileURL(join(import.meta.dirname, '../src', p)).href;
const OPTIONAL = ['pg', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs', 'avsc'];

/** The optional packages loaded once createService() has returned, for this environment. */
async function packagesLoaded(env: Record<string, string>): Promise<string[]> {
  const script = `
    import { registerHooks } from 'node:module';
    const urls = new Set();
    registerHooks({ load(url, ctx, next) { urls.add(url); return next(url, ctx); } });
    const { loadConfig } = await import(${JSON.stringify(src('config.ts'))});
    const { createService } = await import(${JSON.stringify(src('service.ts'))});
    const service = await createService(loadConfig(process.env));
    const pkgs = new Set();
    for (const u of urls) { const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(u); if (m) pkgs.add(m[1]); }
    await service.store.close();
    console.log(JSON.stringify([...pkgs].filter((p) => ${JSON.stringify(OPTIONAL)}.includes(p)).sort()));
    process.exit(0); // a Pub/Sub client's gRPC channel would keep the process alive
  `;
  const dir = mkdtempSync(join(tmpdir(), 'lazy-modules-'));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', SQLITE_PATH: join(dir, 's.sqlite'), ...requiredEnv(env) },
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const didomiApi = { DIDOMI_API_KEY: 'k', DIDOMI_API_SECRET: 's', DIDOMI_ORGANIZATION_ID: 'o', PUBSUB_URL: 'grpc://127.0.0.1:9' };

test('SQLite store, no Didomi API: none of pg, gRPC, protobufjs or avsc is loaded', async () => {
  assert.deepEqual(await packagesLoaded({}), []);
});

test('SQLite store, Didomi API with REVERSE_MODE=poll: still no gRPC (polling uses REST only)', async () => {
  assert.deepEqual(await packagesLoaded({ ...didomiApi, REVERSE_MODE: 'poll' }), []);
});

test('REVERSE_MODE=cdc with the Didomi API: gRPC, protobufjs and avsc are loaded, pg is not', async () => {
  assert.deepEqual(await packagesLoaded({ ...didomiApi, REVERSE_MODE: 'cdc' }), ['@grpc/grpc-js', '@grpc/proto-loader', 'avsc', 'protobufjs']);
});

test('PostgreSQL store: pg is loaded, gRPC is not', async () => {
  assert.deepEqual(await packagesLoaded({ DATABASE_URL: TEST_DATABASE_URL }), ['pg']);
});
