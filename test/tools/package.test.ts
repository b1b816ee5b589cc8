/**
 * The package as a user gets it: `npm pack` (which builds on prepack), installed from the tarball
 * into a temporary app; two consumer packages in it, one ESM and one CommonJS, compile a TypeScript
 * sample with tsc (module nodenext) and run it with plain `node` against the test Redis, and the
 * `rapyer` bin runs. Dependencies come from the npm registry (or npm's cache).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { url } from '../helpers/redis.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const run = promisify(execFile);

const npm = (cwd: string, ...args: string[]) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 1 << 26 });

/** The sample both consumers compile and run: the import line differs, nothing else. */
const sample = (model: string) => `
import { Type } from 'typebox';
import { connect, defineModel, ValidationError } from 'rapyer';

async function main(url: string): Promise<void> {
  const db = await connect({ url });
  const Pet = defineModel('${model}', {
    name: Type.String(),
    age: Type.Integer({ minimum: 0 }),
    tags: Type.Array(Type.String(), { default: [] }),
  }, { indexes: ['age'] });
  const rex = await Pet.create({ name: 'Rex', age: 3 });
  await rex.pipeline((p) => {
    p.age.incr(1);
    p.tags.append('good');
  });
  const bad = await Pet.create({ name: 'Nope', age: -1 }).catch((e: unknown) => e);
  // @ts-expect-error: age has no default, so the compiler wants it (tags has one and may be left out)
  const missing = await Pet.create({ name: 'NoAge' }).catch((e: unknown) => e);
  const found = await Pet.find((p) => p.age.gte(4)).toArray();
  console.log(JSON.stringify({ found: found.map((p) => [p.name, p.age, p.tags]), typed: bad instanceof ValidationError && missing instanceof ValidationError }));
  await db.close();
}

main(process.argv[2]).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
`;

/**
 * A consumer package in `dir` (inside the installed app, so it resolves `rapyer` from the app's
 * node_modules, as in a workspace): compiles the sample with tsc and runs the output with node.
 */
async function consumer(dir: string, type: 'module' | 'commonjs', model: string): Promise<string> {
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${type}`, private: true, type }));
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, skipLibCheck: true, outDir: 'out',
      types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')],
    },
    files: ['index.ts'],
  }));
  await writeFile(join(dir, 'index.ts'), sample(model));
  await run(process.execPath, [TSC, '-p', dir]);
  const { stdout } = await run(process.execPath, [join(dir, 'out/index.js'), url]);
  return stdout.trim();
}

describe('the packed package', function () {
  this.timeout(600_000);
  let work: string;
  let app: string;
  let files: string[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'rapyer-pack-'));
    const { stdout } = await npm(ROOT, 'pack', '--json', '--pack-destination', work);
    // the prepack build prints its own lines first; npm's JSON report is the last thing written
    const [info] = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
    files = info.files.map((f) => f.path);
    // one install of the tarball (npm's cache serves the dependencies) for both consumer packages
    app = join(work, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({
      name: 'app', private: true, dependencies: { rapyer: `file:${join(work, info.filename)}`, typebox: '^1.4.3' },
    }));
    await npm(app, 'install', '--prefer-offline');
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ships the build and nothing else: no sources, no source maps, no lua/', () => {
    expect(files).to.include.members(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js']);
    const unexpected = files.filter((f) => !/^(package\.json|README\.md|LICENSE|dist\/.*\.(js|d\.ts))$/.test(f));
    expect(unexpected).to.deep.equal([]);
  });

  it('an ESM project installs it, type-checks and runs a sample with plain node, and runs the bin', async () => {
    const out = await consumer(join(app, 'esm'), 'module', 'EsmPet');
    expect(JSON.parse(out)).to.deep.equal({ found: [['Rex', 4, ['good']]], typed: true });
    const { stdout } = await run(join(app, 'node_modules/.bin/rapyer'), ['models', '--url', url]);
    expect(stdout).to.match(/^EsmPet\s+1\s+name, age, tags\s+age/m);
  });

  it('a CommonJS project installs it, type-checks and runs the same sample through require()', async () => {
    const dir = join(app, 'cjs');
    const out = await consumer(dir, 'commonjs', 'CjsPet');
    expect(JSON.parse(out)).to.deep.equal({ found: [['Rex', 4, ['good']]], typed: true });
    expect(await readFile(join(dir, 'out/index.js'), 'utf8')).to.contain('require("rapyer")');
  });
});
