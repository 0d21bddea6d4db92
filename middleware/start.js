// npm start: the service as JavaScript compiled by tsc into dist/ (npm run build), which runs in
// ~14 MB less memory than the TypeScript sources through Node's type stripping (issue 17, measured
// by npm run bench). Builds first when dist/ is missing or older than a source, if TypeScript is
// installed; without it (npm ci --omit=dev) and without dist/, runs the sources as before.
// Plain JavaScript on purpose: a .ts launcher would load the type stripper it exists to avoid.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const entry = join(here, 'dist/bin/didomi-sync.js');

function newestSource(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return t;
}

function typescript() {
  try {
    return createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    return null;
  }
}

const built = existsSync(entry) ? statSync(entry).mtimeMs : 0;
const sources = Math.max(newestSource(join(here, 'src')), statSync(join(here, 'tsconfig.build.json')).mtimeMs);
let run = entry;
if (built < sources) {
  const tsc = typescript();
  if (tsc) {
    const r = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
    if (r.status !== 0) {
      console.error('didomi-sync: npm run build failed (see above)');
      process.exit(1);
    }
  } else if (built) console.error('didomi-sync: dist/ is older than src/ and TypeScript is not installed to rebuild it; running dist/');
  else {
    console.error('didomi-sync: no dist/ (npm run build) and no TypeScript to build it: running the sources (type stripping, more memory)');
    run = join(here, 'src/bin/didomi-sync.ts');
  }
}
await import(pathToFileURL(run).href);
