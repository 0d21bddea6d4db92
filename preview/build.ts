// Builds the admin tab for the local preview: the TypeScript components are compiled by tsc (the
// same `npm run build:lwc` output that is deployed), then bundled by rollup with the open-source
// LWC compiler and lightning-base-components. Data modules are aliased to adapters that call the
// org emulator; custom labels come from the package's CustomLabels file.
// What makes this work is in shared/reference/lwc-local-preview.md.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { rollup, type Plugin } from 'rollup';
import alias from '@rollup/plugin-alias';
import replaceModule from '@rollup/plugin-replace';
import lwcModule from '@lwc/rollup-plugin';
import { XMLParser } from 'fast-xml-parser';

// Both are CommonJS builds whose types read as namespaces under nodenext; at run time the default import is the plugin factory.
const replace = replaceModule as unknown as (o: Record<string, unknown>) => Plugin;
const lwc = lwcModule as unknown as (o: Record<string, unknown>) => Plugin;

export const ROOT = resolve(import.meta.dirname, '..');
export const LWC_DIR = join(ROOT, 'force-app/main/default/lwc');
export const OUT_DIR = join(ROOT, '.preview-build');
const LABELS_FILE = join(ROOT, 'force-app/main/default/labels/CustomLabels.labels-meta.xml');
const ADAPTERS = join(ROOT, 'preview/client/adapters');

/** `npm run build:lwc`: tsc emits each component's .js beside its .ts. */
export function compileComponents() {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(LWC_DIR, 'tsconfig.json')], { stdio: 'inherit' });
}

/** Resolves `@salesforce/label/c.Name` to the label's value in the package, as the platform does. */
function customLabels(): Plugin {
  const parsed = new XMLParser({ isArray: (name) => name === 'labels' }).parse(readFileSync(LABELS_FILE, 'utf8'));
  const values = new Map<string, string>(parsed.CustomLabels.labels.map((l: { fullName: string; value: string }) => [l.fullName, String(l.value)]));
  const PREFIX = '@salesforce/label/c.';
  return {
    name: 'custom-labels',
    resolveId: (id) => (id.startsWith(PREFIX) ? `\0label:${id.slice(PREFIX.length)}` : null),
    load(id) {
      if (!id.startsWith('\0label:')) return null;
      const name = id.slice('\0label:'.length);
      if (!values.has(name)) this.error(`custom label ${name} is not in ${LABELS_FILE}`);
      return `export default ${JSON.stringify(values.get(name))};`;
    },
  };
}

/**
 * `@salesforce/i18n/lang`, which our components import: the Salesforce user's language, here the
 * preview admin's (en-US). lightning-base-components resolves its own i18n imports.
 */
function userLanguage(): Plugin {
  const ID = '@salesforce/i18n/lang';
  return {
    name: 'salesforce-user-language',
    resolveId: (id) => (id === ID ? '\0user-language' : null),
    load: (id) => (id === '\0user-language' ? 'export default "en-US";' : null),
  };
}

export async function buildPreview({ compile = true } = {}) {
  if (compile) compileComponents();
  // The components folder is flat (no namespace level), so each bundle is mapped to c/<name> by path.
  const components = readdirSync(LWC_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(LWC_DIR, d.name, `${d.name}.js`)))
    .map((d) => ({ name: `c/${d.name}`, path: join(LWC_DIR, d.name, `${d.name}.js`) }));
  const bundle = await rollup({
    input: join(ROOT, 'preview/client/main.js'),
    plugins: [
      customLabels(),
      userLanguage(),
      alias({
        entries: ['uiObjectInfoApi', 'uiRecordApi', 'graphql', 'platformShowToastEvent', 'navigation'].map((m) => ({
          find: new RegExp(`^lightning/${m}$`),
          replacement: join(ADAPTERS, `${m}.js`),
        })),
      }),
      replace({ preventAssignment: true, values: { 'import.meta.env.SSR': 'false', 'process.env.NODE_ENV': JSON.stringify('production') } }),
      lwc({
        rootDir: ROOT,
        modules: [...components, { npm: 'lightning-base-components' }],
        enableDynamicComponents: true,
        enableSyntheticElementInternals: true,
      }),
    ],
    onwarn(warning, warn) {
      // lightning-base-components (alpha) trips the compiler's template lint; only our own warnings matter.
      if (warning.code === 'CIRCULAR_DEPENDENCY' || warning.code === 'THIS_IS_UNDEFINED') return;
      if ((warning.id ?? warning.loc?.file ?? '').includes('lightning-base-components')) return;
      warn(warning);
    },
  });
  await bundle.write({ dir: OUT_DIR, format: 'esm', entryFileNames: 'main.js', chunkFileNames: 'chunks/[name]-[hash].js' });
  await bundle.close();
}

if (import.meta.main) {
  const t0 = Date.now();
  await buildPreview();
  console.log(`built the admin tab preview into ${OUT_DIR} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
