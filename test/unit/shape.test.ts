import { expect } from 'chai';
import { Type } from 'typebox';
import type { ProgramNode, QueryNode, Stmt } from '../../src/ast/nodes.js';
import { compile, compileUncached, recordBinder, type Compiled } from '../../src/compile/compiler.js';
import { shapeOf } from '../../src/compile/shape.js';
import { and, defineModel } from '../../src/index.js';
import { Recorder } from '../../src/ops/recorder.js';
import { updateProgram } from '../../src/model/record.js';
import { KeySpace } from '../../src/model/keys.js';
import { KEY_READS, readProgram } from '../../src/model/prepared-read.js';
import { call, make, stateArg } from '../../src/ast/nodes.js';

const Shaped = defineModel('Shaped', {
  name: Type.String({ maxLength: 20 }),
  score: Type.Integer({ minimum: 0, default: 0 }),
  rank: Type.Union([Type.Number(), Type.Null()], { default: null }),
  tags: Type.Array(Type.String(), { default: [] }),
}, { indexes: ['score', 'name'] });

/** The statements `fn` records against record `rec` of a program. */
function recorded(fn: (p: any) => void): Stmt[] {
  const recorder = new Recorder();
  Shaped.record(fn, recorder, () => ({}));
  return recorder.body as Stmt[];
}

const rec = (id: string, version = '3'): object => Shaped.wrap(id, {}, { version, heads: new Map() });
const query = (min: number, status: string): QueryNode =>
  (Shaped.find((u) => and(u.score.gte(min), u.name.eq(status))).sort('score', 'desc').limit(min + 1) as unknown as
    { run: { node(action: QueryNode['action']): QueryNode } }).run.node('records');

/** A program as a sharded model's: its record checks the shard layout `layout` first. */
const guarded = (program: ProgramNode, layout: string): ProgramNode =>
  ({ ...program, records: program.records.map((r) => ({ ...r, guard: { meta: 'Shaped:{3}#meta', layout } })) });

/** Programs in pairs: same shape, different values (ids, versions, numbers, strings, list lengths). */
const pairs = (): [ProgramNode | QueryNode, ProgramNode | QueryNode][] => [
  [
    updateProgram([rec('a')], recorded((p) => { p.score.incr(1); p.name.append('x'); p.tags.append('t'); })),
    updateProgram([rec('b', '9')], recorded((p) => { p.score.incr(70); p.name.append('yy'); p.tags.append('u', 'v', 'w'); })),
  ],
  [
    updateProgram([rec('a')], recorded((p) => { p.rank.set(null); p.score.gt(3).ifTrue(() => p.tags.clear()); })),
    updateProgram([rec('z')], recorded((p) => { p.rank.set(null); p.score.gt(40).ifTrue(() => p.tags.clear()); })),
  ],
  [Shaped.writeProgram('a', ['name', 'x', 'score', '1'], 'create'), Shaped.writeProgram('q', ['name', 'y', 'score', '2', 'rank', '3'], 'create')],
  [updateProgram([rec('a'), rec('b')], recorded((p) => p.score.incr(1))), updateProgram([rec('c'), rec('d')], recorded((p) => p.score.incr(2)))],
  [query(3, 'ann'), query(70, 'bo')],
  // the layout a guard checks is a value: a reshard's old and new layouts share one script
  [guarded(updateProgram([rec('a')], recorded((p) => p.score.incr(1))), '16'), guarded(updateProgram([rec('b')], recorded((p) => p.score.incr(5))), '16>32')],
];

describe('programs compiled once per shape', () => {
  it('gives the same shape key and sha1 to the same shape with different values', () => {
    for (const [a, b] of pairs()) {
      expect(shapeOf(a).key).to.equal(shapeOf(b).key);
      expect(compile(a).sha1).to.equal(compile(b).sha1);
    }
  });

  it('binds a cached shape to exactly what compiling it afresh gives (keys, argv, script)', () => {
    for (const [a, b] of pairs()) {
      compile(a); // the first of a shape makes its template
      const bound = compile(b);
      const fresh = compileUncached(b);
      expect(bound.lua).to.equal(fresh.lua);
      expect(bound.sha1).to.equal(fresh.sha1);
      expect(bound.keys).to.deep.equal(fresh.keys);
      expect(bound.argv.map(String)).to.deep.equal(fresh.argv.map(String));
      expect([bound.readOnly, bound.binary]).to.deep.equal([fresh.readOnly, fresh.binary]);
    }
  });

  it('keeps apart shapes that differ only in which keys are equal, and in null values', () => {
    const body = recorded((p) => p.score.incr(1));
    const same = updateProgram([rec('a'), rec('a')], body);
    const two = updateProgram([rec('a'), rec('b')], body);
    expect(shapeOf(same).key).not.to.equal(shapeOf(two).key);
    compile(two);
    expect(compile(same).keys).to.deep.equal(compileUncached(same).keys);
    expect(shapeOf(recorded((p) => p.rank.set(null))[0] as never).key)
      .not.to.equal(shapeOf(recorded((p) => p.rank.set(2))[0] as never).key);
  });

  describe('prepared one-record reads (get, exists, ttl)', () => {
    const sameAs = (bound: Compiled, fresh: Compiled): void => {
      expect([bound.sha1, bound.command, bound.readOnly, bound.binary]).to.deep.equal([fresh.sha1, fresh.command, fresh.readOnly, fresh.binary]);
      expect(bound.keys).to.deep.equal(fresh.keys);
      expect(bound.argv.map(String)).to.deep.equal(fresh.argv.map(String));
    };
    // a single node, and a cluster's 16 shards (a layout guard: a key and a value besides the record's)
    const single = new KeySpace('Shaped', false);
    const spaces: [KeySpace, string][] = [[single, '1'], [new KeySpace('Shaped', true, 16), '16'], [new KeySpace('Shaped', true, 16), '4>16|16']];
    const ids = ['a', 'b', '01HZX', 'é ü', 'x:y{z}', '16', '4', 'Shaped', '#meta', ''.padEnd(300, 'q')];
    const program = (id: string, body: Stmt, keys: KeySpace, layout: string): ProgramNode =>
      make('Program', { mode: 'read', binary: Shaped.binary, records: [Shaped.ref(id, '', keys, layout)], body: [body] });

    it('binds any record of a shard to exactly what compiling its own program gives', () => {
      for (const body of Object.values(KEY_READS)) {
        for (const [keys, layout] of spaces) {
          for (const first of ['a', 'zz']) {
            const bind = recordBinder(program(first, body, keys, layout));
            expect(bind, `${layout} ${first}`).to.be.a('function');
            for (const id of ids.filter((i) => keys.shardOf(i) === keys.shardOf(first))) {
              sameAs(bind!(keys.record(id), id), compileUncached(program(id, body, keys, layout)));
            }
          }
        }
      }
    });

    it('binds the id wherever the program holds it as a value (an update program: its index entries)', () => {
      const incr = recorded((p) => p.score.incr(1));
      const bind = recordBinder(updateProgram([rec('a')], incr));
      for (const id of ['b', 'zz', 'é']) {
        const [r] = updateProgram([rec(id)], incr).records;
        sameAs(bind!(r.key, id), compileUncached(updateProgram([rec(id)], incr)));
      }
    });

    it('is refused when the first record\'s id is also another value of its program (it could not tell them apart)', () => {
      // the layout '16' is a value of a guarded program: a record with id '16' cannot be the sample
      expect(recordBinder(program('16', KEY_READS.read, new KeySpace('Shaped', true, 16), '16'))).to.equal(undefined);
    });

    it('prepares a model\'s reads once per shard: every later read of the shard is bound, not compiled', () => {
      const keys = new KeySpace('Shaped', true, 16);
      const shard = keys.shardOf('a');
      const others = ids.filter((i) => i !== 'a' && keys.shardOf(i) === shard && i !== '16');
      expect(readProgram(Shaped, 'a', KEY_READS.exists, keys, '16').script).to.equal(undefined); // the first compiles
      for (const id of others) {
        const { script } = readProgram(Shaped, id, KEY_READS.exists, keys, '16');
        expect(script, id).not.to.equal(undefined);
        sameAs(script!, compileUncached(program(id, KEY_READS.exists, keys, '16')));
      }
      // a body that is not one of the key reads is never prepared
      expect(readProgram(Shaped, 'a', call('rec_read', stateArg(1)), keys, '16').script).to.equal(undefined);
    });

    it('checks the id of a bound read as a compiled one does', () => {
      readProgram(Shaped, 'a', KEY_READS.ttl, single, '1');
      expect(() => readProgram(Shaped, 'bad\uD800id', KEY_READS.ttl, single, '1')).to.throw(/id.*surrogate/);
    });
  });
});
