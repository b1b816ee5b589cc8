/**
 * The downward path without Redis: handles record nodes (recorder -> AST), the compiler turns the
 * AST into Lua (AST -> Lua). Golden text and deep-equal nodes: a change in either shows here
 * first. test/integration/compiler.test.ts runs such scripts against a real Redis.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { call, make, stateArg, type ProgramNode, type QueryNode, type RecordRef } from '../../src/ast/nodes.js';
import { compile } from '../../src/compile/compiler.js';
import { luaString } from '../../src/compile/link.js';
import { defineModel } from '../../src/index.js';
import { Recorder } from '../../src/ops/recorder.js';
import { indexesOf, planOf } from '../../src/query/plan.js';

const Player = defineModel('GoldenPlayer', {
  name: Type.String({ maxLength: 20 }),
  score: Type.Integer({ minimum: 0, default: 0 }),
  tags: Type.Array(Type.String(), { default: [] }),
});

/** Record 1 of a program, as Model.ref lays it out on a single node. */
const ref: RecordRef = {
  key: 'GoldenPlayer:1', idsKey: 'GoldenPlayer#ids', id: '1', seen: '7', ix: [], uq: [], exp: ['GoldenPlayer#exp', 'GoldenPlayer#expv'],
};

const recorded = (fn: Parameters<typeof Player.record>[0]) => {
  const recorder = new Recorder();
  Player.record(fn, recorder, () => ({}));
  return recorder.body;
};

/** The program part of a script: everything after the linked library functions. */
const body = (lua: string): string => lua.slice(lua.indexOf('local P = read_params'));

describe('golden: recorder -> AST -> Lua (no Redis)', () => {
  it('records a field op and a branch as frozen nodes', () => {
    const stmts = recorded((p) => {
      p.score.incr(10);
      p.score.gt(5).ifTrue(() => p.tags.append('x')).else(() => p.name.set('low'));
    });
    expect(stmts).to.deep.equal([
      { kind: 'FieldOp', rec: 1, target: 'num', op: 'incr', field: 'score', args: [{ kind: 'Param', value: '10', as: 'raw' }], check: { int: true, min: 0, max: undefined, xmin: undefined, xmax: undefined, mult: undefined } },
      {
        kind: 'If',
        cond: { kind: 'Compare', op: 'gt', left: { kind: 'Field', rec: 1, field: 'score', as: 'num' }, right: { kind: 'Param', value: '5', as: 'num' } },
        then: [{ kind: 'FieldOp', rec: 1, target: 'array', op: 'append', field: 'tags', args: [{ kind: 'ParamList', values: ['x'] }], check: { minItems: undefined, maxItems: undefined } }],
        else: [{ kind: 'FieldOp', rec: 1, target: 'scalar', op: 'set', field: 'name', args: [{ kind: 'Param', value: 'low', as: 'raw' }], check: { minLen: undefined, maxLen: 20 } }],
      },
    ]);
    // the else branch came after the if was recorded: a new node took its place, none changed
    expect(stmts.every((s) => Object.isFrozen(s))).to.equal(true);
  });

  it('compiles an update program: checks and writes staged, values in ARGV, one reply per record', () => {
    const program: ProgramNode = {
      kind: 'Program', mode: 'update', binary: false, records: [ref],
      body: recorded((p) => {
        p.score.incr(10);
        p.score.gt(5).ifTrue(() => p.tags.append('x')).else(() => p.name.set('low'));
      }),
    };
    const { lua, keys, argv, readOnly } = compile(program);
    expect(body(lua)).to.equal([
      'local P = read_params(ARGV, "ssssls")',
      'local C = {{int=true,min=0}, {}, {maxLen=20}}',
      'local S = { st_indexed(st_new(KEYS[1]), P[1], {}, {}, {KEYS[2], KEYS[3]}) }',
      'local R = {}',
      'st_prefetch(S[1], {"#v", "score", "tags", "tags@", "name"}, {"score!", "name!"})',
      'rec_require(S[1])',
      'R[1] = num_op(S[1], "score", "score", C[1], "incr", P[3]) or false',
      'if c_gt(rd_num(S[1], "score"), tonumber(P[4])) then',
      '  R[2] = arr_append(S[1], "tags", "tags", C[2], P[5]) or false',
      'else',
      '  R[3] = sc_set(S[1], "name", P[6]) or false',
      'end',
      'st_check_all(S)',
      'st_commit(S[1])',
      'return { R, st_reply(S[1], P[2]) }',
      '',
    ].join('\n'));
    expect(keys).to.deep.equal(['GoldenPlayer:1', 'GoldenPlayer#exp', 'GoldenPlayer#expv']);
    expect(argv.map(String)).to.deep.equal(['1', '7', '10', '5', '1', 'x', 'low']);
    expect(readOnly).to.equal(false);
    // every function the body calls is linked before it, once
    for (const fn of ['read_params', 'st_indexed', 'rec_require', 'num_op', 'c_gt', 'arr_append', 'sc_set', 'st_commit', 'st_reply']) {
      expect(lua.split(`local function ${fn}(`), fn).to.have.length(2);
    }
  });

  it('compiles get, exists and ttl to a read of the record key alone (no record state)', () => {
    for (const [step, fn] of [['rec_read', 'rec_read'], ['rec_exists', 'rec_exists'], ['rec_ttl', 'rec_ttl']] as const) {
      const program = make('Program', { mode: 'read', binary: false, records: [ref], body: [call(step, stateArg(1))] });
      const { lua, keys, readOnly } = compile(program);
      expect(lua.slice(lua.indexOf('local P = ')), step).to.equal(
        ['local P = ARGV', 'local S = { { key = KEYS[1] } }', 'local R = {}', `R[1] = ${fn}(S[1])`, 'return R', ''].join('\n'),
      );
      expect(keys).to.deep.equal(['GoldenPlayer:1']);
      expect(readOnly).to.equal(true);
    }
  });

  it('sends get, exists and ttl as the one command their script runs, unless a guard or a sliding TTL needs the script', () => {
    const read = (r: RecordRef, step: 'rec_read' | 'rec_exists' | 'rec_ttl' = 'rec_read') =>
      compile(make('Program', { mode: 'read', binary: false, records: [r], body: [call(step, stateArg(1))] }));
    expect([read(ref).command, read(ref, 'rec_exists').command, read(ref, 'rec_ttl').command]).to.deep.equal(['HGETALL', 'EXISTS', 'TTL']);
    expect(read({ ...ref, guard: { meta: '{GoldenPlayer}#meta', layout: '1' } }).command).to.equal(undefined);
    expect(read({ ...ref, slideMs: '60000' }).command).to.equal(undefined);
    // exists and ttl do not re-arm a sliding TTL: still one command
    expect(read({ ...ref, slideMs: '60000' }, 'rec_exists').command).to.equal('EXISTS');
  });

  it('compiles a query into q_run with its table, filter and action (lua/lib/query.lua)', () => {
    const ix = [{ field: 'score', key: 'GoldenPlayer#idx:score', type: 'n' as const }];
    const filter = Player.fields.score.gt(3).expr;
    const q: QueryNode = {
      kind: 'Query', binary: false, prefix: { kind: 'Param', value: 'GoldenPlayer:', as: 'raw' }, idsKey: 'GoldenPlayer#ids',
      ix, uq: [], exp: ['GoldenPlayer#exp', 'GoldenPlayer#expv'], plan: planOf(filter, indexesOf(ix)), exact: true, filter,
      sort: [{ field: 'score', numeric: true, desc: true }], after: { kind: 'ParamList', values: [] }, offset: { kind: 'Param', value: '0', as: 'raw' },
      limit: { kind: 'Param', value: '10', as: 'raw' }, action: 'ids', body: [],
    };
    expect(body(compile(q).lua)).to.equal([
      'local P = read_params(ARGV, "ssssls")',
      'local C = {}',
      'local R = {}',
      // the lean filter reads the candidate's HMGET reply V; its number is converted once, into A
      'local A = {tonumber(P[6])}',
      'return q_run({ ids = KEYS[1], prefix = P[1], offset = P[2], limit = P[3], ix = {{"score", KEYS[2], "n"}}, uq = {}, '
        + 'exp = {KEYS[3], KEYS[4]}, plan = {op="range", key=KEYS[2], t="n", min=P[4], minx=true}, exact = true, walk = KEYS[2], '
        + 'page = true, fields = {"#v", "score"}, lean = true, sort = {{field = "score", numeric = true, desc = true}}, after = P[5] },',
      '  function(V) return c_gt(dec_num(V[2]), A[1]) end,',
      '  function(q, M, sorted) return q_act_ids(q, M, sorted) end)',
      '',
    ].join('\n'));
  });

  it('same shape, other values: the same script', () => {
    const program = (n: number, tag: string, tags: string[]): ProgramNode => ({
      kind: 'Program', mode: 'update', binary: false, records: [ref],
      body: recorded((p) => { p.score.incr(n); p.tags.append(tag, ...tags); }),
    });
    const one = compile(program(1, 'a', []));
    const two = compile(program(99, 'b', ['c', 'd', 'e']));
    expect(two.sha1).to.equal(one.sha1);
    expect(two.lua).to.equal(one.lua);
    expect(two.argv).to.not.deep.equal(one.argv);
  });

  it('luaString escapes everything outside printable ASCII', () => {
    expect(luaString('a"b\\c\n🎉')).to.equal('"a\\034b\\092c\\010\\240\\159\\142\\137"');
  });
});
