/**
 * Every ```ts sample of README.md and docs/*.md is compiled with tsc and run against the test Redis,
 * each program in its own Node process (the rules are at the top of docs/API.md):
 *
 *   ```ts             a whole program
 *   ```ts continued   appended to the previous ```ts block of the same file (one program)
 *   ```ts no-run      compiled, not run
 *
 * `redis://127.0.0.1:6379` in a sample becomes the test server's URL. Programs are written to
 * `.samples/` (git-ignored), where `rapyer` resolves to src/index.ts through a tsconfig path.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { url } from '../helpers/redis.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const OUT = join(ROOT, '.samples');
const SAMPLE_URL = 'redis://127.0.0.1:6379';
const run = promisify(execFile);

interface Program {
  /** `README.md:183`: the file and line of its first block. */
  readonly where: string;
  readonly file: string;
  code: string;
  runs: boolean;
}

/** The programs of one Markdown file, in order. */
function programsOf(name: string, markdown: string): Program[] {
  const programs: Program[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```ts(?:\s+(.*))?$/.exec(lines[i]);
    if (!fence) continue;
    const flags = new Set((fence[1] ?? '').split(/\s+/).filter(Boolean));
    for (const flag of flags) {
      if (flag !== 'continued' && flag !== 'no-run') throw new Error(`${name}:${i + 1}: unknown sample flag "${flag}"`);
    }
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    if (i === lines.length) throw new Error(`${name}:${start}: unterminated \`\`\`ts block`);
    const code = body.join('\n');
    const previous = programs[programs.length - 1];
    if (flags.has('continued')) {
      if (!previous) throw new Error(`${name}:${start}: a "continued" block needs a \`\`\`ts block before it`);
      previous.code += `\n\n// ${name}:${start + 1}\n${code}`;
      previous.runs &&= !flags.has('no-run');
    } else {
      const where = `${name}:${start + 1}`;
      programs.push({ where, file: `${name.replace(/[^A-Za-z0-9]/g, '_')}_${start + 1}.ts`, code: `// ${where}\n${code}`, runs: !flags.has('no-run') });
    }
  }
  return programs;
}

const markdown = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const programs = markdown.flatMap((name) => programsOf(name, readFileSync(join(ROOT, name), 'utf8')));

describe('README and docs samples', function () {
  this.timeout(600_000);

  before(() => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT);
    writeFileSync(join(OUT, 'tsconfig.json'), JSON.stringify({
      extends: '../tsconfig.json',
      compilerOptions: { noEmit: true, noUnusedLocals: false, rootDir: '..', types: ['node'], paths: { rapyer: ['../src/index.ts'] } },
      include: ['*.ts'],
    }));
    for (const p of programs) {
      // a module (so programs do not share globals) that ends its process once its last line ran
      writeFileSync(join(OUT, p.file), `${p.code.replaceAll(SAMPLE_URL, url)}\n\nprocess.exit(0);\nexport {};\n`);
    }
  });

  it('finds the samples', () => {
    expect(programs.length).to.be.greaterThan(10);
  });

  it('every sample compiles', async () => {
    const tsc = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', OUT], { cwd: ROOT })
      .then(() => '', (err: { stdout: string }) => err.stdout);
    expect(tsc, 'tsc errors (file names say where the sample is)').to.equal('');
  });

  for (const p of programs.filter((x) => x.runs)) {
    it(`runs ${p.where}`, async () => {
      const child = await run(process.execPath, ['--import', 'tsx', join(OUT, p.file)], {
        cwd: ROOT, env: { ...process.env, TSX_TSCONFIG_PATH: join(OUT, 'tsconfig.json') },
      }).then(() => ({ code: 0, stderr: '' }), (err: { code: number; stderr: string }) => err);
      expect(child.code, child.stderr).to.equal(0);
    });
  }
});
