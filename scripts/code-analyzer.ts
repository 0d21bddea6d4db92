// Salesforce Code Analyzer over the package metadata and the admin tab (force-app) and the External
// Client App (connect/), with the engines of the `sf code-analyzer` CLI plugin that install and run
// here offline: PMD (AppExchange security rules for metadata, Visualforce/HTML rules; needs Java 11+)
// and regex. The CLI plugin itself needs an engine the registry does not serve, so this runs the same
// code-analyzer-core library with the same configuration file (code-analyzer.yml). ESLint covers the
// TypeScript. Exits 1 on any violation, 2 when an engine cannot run.
// Usage: node scripts/code-analyzer.ts [folder...]   (default: force-app connect)
import { CodeAnalyzer, CodeAnalyzerConfig, EventType, LogLevel, type LogEvent } from '@salesforce/code-analyzer-core';
import * as pmd from '@salesforce/code-analyzer-pmd-engine';
import * as regex from '@salesforce/code-analyzer-regex-engine';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = (process.argv.length > 2 ? process.argv.slice(2) : ['force-app', 'connect']).map((d) => resolve(ROOT, d));
const ENGINES = ['pmd', 'regex'];
// Every tag but CodeStyle (ESLint and Prettier own the style): the security review's AppExchange and
// Security rules, and the best-practice, error-prone, performance and recommended ones.
const SELECTORS = ENGINES.flatMap((e) => ['AppExchange', 'Security', 'BestPractices', 'ErrorProne', 'Performance', 'Recommended'].map((t) => `${e}:${t}`));

const analyzer = new CodeAnalyzer(CodeAnalyzerConfig.fromFile(join(ROOT, 'code-analyzer.yml')));
const errors: string[] = [];
analyzer.onEvent(EventType.LogEvent, (e: LogEvent) => {
  if (e.logLevel === LogLevel.Error) errors.push(e.message);
});
await analyzer.addEnginePlugin(pmd.createEnginePlugin());
await analyzer.addEnginePlugin(regex.createEnginePlugin());
const missing = ENGINES.filter((e) => !analyzer.getEngineNames().includes(e));
if (missing.length) {
  console.error(`code-analyzer: engine(s) ${missing.join(', ')} cannot run here${errors.length ? `:\n  ${errors.join('\n  ')}` : ''}`);
  console.error('The PMD engine needs Java 11 or newer on the PATH (Debian: apt-get install default-jre-headless).');
  process.exit(2);
}
const workspace = await analyzer.createWorkspace(TARGETS);
const rules = await analyzer.selectRules(SELECTORS, { workspace });
const results = await analyzer.run(rules, { workspace });
const violations = results.getViolations();
for (const v of violations) {
  const at = v.getPrimaryLocation();
  console.log(`${relative(ROOT, at.getFile() ?? '')}:${at.getStartLine() ?? 1}  ${v.getRule().getEngineName()}:${v.getRule().getName()}  ${v.getMessage()}`);
}
if (errors.length) {
  console.error(`code-analyzer: engine errors:\n  ${errors.join('\n  ')}`);
  process.exit(2);
}
console.log(
  `code-analyzer: ${rules.getCount()} rules (${ENGINES.join(', ')}) on ${TARGETS.map((t) => relative(ROOT, t)).join(', ')}: ${violations.length} violation(s)`,
);
process.exit(violations.length ? 1 : 0);
