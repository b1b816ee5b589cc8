/**
 * Fails when the modules of src/ import each other in a cycle. Every import counts, `import type`
 * and `export ... from` included: a type-only cycle still means two modules that cannot be read
 * (or moved) one without the other. Run by `npm test`; `npx tsx scripts/check-cycles.ts`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

const files = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
  const path = join(dir, name);
  if (statSync(path).isDirectory()) return files(path);
  return path.endsWith('.ts') ? [path] : [];
});

/** The src/ modules a file imports (relative specifiers, `.js` mapped back to `.ts`). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, false);
  return importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name.replace(/\.js$/, '.ts')));
}

const graph = new Map(files(src).map((f) => [f, importsOf(f)]));
const cycles: string[][] = [];
const state = new Map<string, 'open' | 'done'>();
const stack: string[] = [];

function visit(file: string): void {
  state.set(file, 'open');
  stack.push(file);
  for (const next of graph.get(file) ?? []) {
    if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
    else if (!state.has(next)) visit(next);
  }
  stack.pop();
  state.set(file, 'done');
}

for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);

const show = (f: string): string => relative(root, f);
if (cycles.length > 0) {
  for (const cycle of cycles) console.error(`import cycle: ${cycle.map(show).join(' -> ')}`);
  process.exit(1);
}
console.log(`check-cycles: ${graph.size} modules in src/, no import cycle`);
