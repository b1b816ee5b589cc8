/**
 * The planner (src/query/plan.ts), without Redis: which indexes can narrow a condition, how
 * `and`/`or` combine them, when the indexes alone answer it (exact), and how explain() reads.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import type { IndexRef, PlanNode } from '../../src/ast/nodes.js';
import { and, defineModel, not, or, type Condition } from '../../src/index.js';
import { describePlan, indexesOf, isExact, planOf } from '../../src/query/plan.js';

const User = defineModel('PlanUser', {
  age: Type.Integer(),
  name: Type.String(),
  bio: Type.String(),
  note: Type.String(),
});
const u = User.fields;

const age: IndexRef = { field: 'age', key: 'PlanUser#idx:age', type: 'n' };
const name: IndexRef = { field: 'name', key: 'PlanUser#idx:name', type: 's' };
const bio: IndexRef = { field: 'bio', key: 'PlanUser#words:bio', type: 't' };
const indexes = indexesOf([age, name, bio]);

const plan = (c: Condition): PlanNode => planOf(c.expr, indexes);
const p = (value: string) => ({ kind: 'Param', value, as: 'num' }) as const;
const s = (value: string) => ({ kind: 'Param', value, as: 'str' }) as const;

describe('planner', () => {
  it('plans comparisons on an indexed field as index ranges', () => {
    expect(plan(u.age.eq(30))).to.deep.equal({ kind: 'PlanRange', index: age, min: p('30'), max: p('30'), minEx: false, maxEx: false });
    expect(plan(u.age.gt(30))).to.deep.equal({ kind: 'PlanRange', index: age, min: p('30'), minEx: true, maxEx: false });
    expect(plan(u.age.lte(30))).to.deep.equal({ kind: 'PlanRange', index: age, max: p('30'), minEx: false, maxEx: false });
  });

  it('merges between(a, b) into one range', () => {
    expect(plan(u.age.between(20, 30))).to.deep.equal({ kind: 'PlanRange', index: age, min: p('20'), max: p('30'), minEx: false, maxEx: false });
  });

  it('plans in() and startsWith() on lexicographic indexes', () => {
    expect(plan(u.name.in(['a', 'b']))).to.deep.equal({ kind: 'PlanIn', index: name, values: { kind: 'ParamList', values: ['a', 'b'] } });
    expect(plan(u.name.startsWith('al'))).to.deep.equal({ kind: 'PlanPrefix', index: name, prefix: s('al') });
    expect(plan(u.note.startsWith('al')).kind).to.equal('PlanScan');
  });

  it('plans text conditions on a word index', () => {
    expect(plan(u.bio.matches('Redis rocks'))).to.deep.equal({
      kind: 'PlanWords', index: bio, mode: 'all', words: { kind: 'ParamList', values: ['redis', 'rocks'] },
    });
  });

  it('scans what no index can narrow: ne, not, unindexed fields', () => {
    for (const c of [u.age.ne(3), not(u.age.eq(3)), u.note.eq('x'), u.bio.eq('x')]) expect(plan(c)).to.deep.equal({ kind: 'PlanScan' });
  });

  it('an and keeps the children an index narrows; an or needs every child narrowed', () => {
    expect(plan(and(u.age.gt(1), u.note.eq('x'), u.name.eq('n')))).to.deep.equal({
      kind: 'PlanAnd',
      items: [
        { kind: 'PlanRange', index: age, min: p('1'), minEx: true, maxEx: false },
        { kind: 'PlanRange', index: name, min: s('n'), max: s('n'), minEx: false, maxEx: false },
      ],
    });
    expect(plan(and(u.age.gt(1), u.note.eq('x'))).kind).to.equal('PlanRange');
    expect(plan(or(u.age.gt(1), u.name.eq('n'))).kind).to.equal('PlanOr');
    expect(plan(or(u.age.gt(1), u.note.eq('x'))).kind).to.equal('PlanScan');
  });

  it('is exact only when the indexes alone answer every leaf', () => {
    expect(isExact(and(u.age.gt(1), or(u.name.eq('a'), u.bio.matches('x'))).expr, indexes)).to.equal(true);
    expect(isExact(and(u.age.gt(1), u.note.eq('x')).expr, indexes)).to.equal(false);
    expect(isExact(not(u.age.eq(1)).expr, indexes)).to.equal(false);
  });

  it('describes plans for explain()', () => {
    expect(describePlan(plan(u.age.eq(30)))).to.equal('index age = "30"');
    expect(describePlan(plan(u.age.between(20, 30)))).to.equal('index age in ["20", "30"]');
    expect(describePlan(plan(or(u.age.gt(1), u.name.startsWith('a'))))).to.equal('union of (index age in ("1", +inf); index name starts with "a")');
    expect(describePlan(plan(u.note.eq('x')))).to.equal('scan of every id of the model (no index can narrow this condition)');
  });
});
