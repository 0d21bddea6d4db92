// npm run test:reliability (-- --short, --only NAME, --update-readme): faults and attacks injected over
// real HTTP, counted, and printed one line per scenario, then "N passed, N failed". A full run writes
// results/reliability-full.json and .md; README.md changes only with --update-readme (on purpose).
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/stack.ts';
import { scenarios, type Figures } from './scenarios.ts';

const { values: a } = parseArgs({
  options: { short: { type: 'boolean', default: false }, only: { type: 'string' }, 'update-readme': { type: 'boolean', default: false } },
});
const selected = scenarios.filter((s) => !a.only || s.name === a.only);
let passed = 0;
let failed = 0;
const report: { name: string; ok: boolean; figures: Figures; error?: string; seconds: number }[] = [];
process.on('unhandledRejection', (e) => {
  console.error(`UNHANDLED REJECTION in the suite: ${(e as Error)?.stack ?? e}`);
  failed++;
});
console.log(`Reliability suite (${a.short ? 'short' : 'full'}): ${selected.length} scenarios`);
for (const s of selected) {
  const started = Date.now();
  const figures: Figures = {};
  let error: string | undefined;
  try {
    await s.run({ short: a.short, figures });
  } catch (e) {
    error = ((e as Error).stack ?? String(e)) + ((e as any)?.cause ? `\n     cause: ${(e as any).cause?.stack ?? (e as any).cause}` : '');
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const ok = !error;
  if (ok) passed++;
  else failed++;
  const fig = Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(`${ok ? 'PASS' : 'FAIL'} ${s.name.padEnd(18)} ${fig} (${seconds} s)`);
  if (error) console.log(`     ${error.split('\n').slice(0, 6).join('\n     ')}`);
  report.push({ name: s.name, ok, figures, error, seconds });
}
if (!a.only && !a.short) {
  // Results go under results/; the README's table changes only with --update-readme, so a local run
  // never rewrites a tracked document by accident.
  mkdirSync(join(ROOT, 'results'), { recursive: true });
  const out = { at: new Date().toISOString(), mode: 'full', passed, failed, scenarios: report };
  writeFileSync(join(ROOT, 'results', 'reliability-full.json'), JSON.stringify(out, null, 2));
  const rows = report.map(
    (r) =>
      `| ${r.name} | ${scenarios.find((s) => s.name === r.name)!.description} | ${r.ok ? 'pass' : 'FAIL'} | ${Object.entries(r.figures)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} |`,
  );
  const table = `Last full run ${out.at.slice(0, 10)}: ${passed} passed, ${failed} failed.\n\n| scenario | what is injected | result | figures |\n|---|---|---|---|\n${rows.join('\n')}`;
  writeFileSync(join(ROOT, 'results', 'reliability-full.md'), table + '\n');
  const readme = join(ROOT, 'README.md');
  if (a['update-readme'] && existsSync(readme)) {
    const section = `<!-- reliability:start -->\n${table}\n<!-- reliability:end -->`;
    writeFileSync(readme, readFileSync(readme, 'utf8').replace(/<!-- reliability:start -->[\s\S]*<!-- reliability:end -->/, section));
  }
  console.log(`Written: results/reliability-full.json, results/reliability-full.md${a['update-readme'] ? ', README.md (Reliability)' : ''}`);
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
