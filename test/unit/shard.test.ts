import { expect } from 'chai';
import { Type } from 'typebox';
import { slot } from '../../src/client/slot.js';
import { defineModel, SchemaError, UsageError } from '../../src/index.js';
import { fnv1a, KeySpace, shardOf } from '../../src/model/keys.js';
import { comparator, cursorOf, mergePage, mergeStreams, type Row } from '../../src/query/fanout.js';

describe('shards', () => {
  it('FNV-1a has its published check values', () => {
    expect(fnv1a('')).to.equal(0x811c9dc5);
    expect(fnv1a('a')).to.equal(0xe40c292c);
    expect(fnv1a('foobar')).to.equal(0xbf9cf968);
  });

  it('a record\'s shard is a pure, stable function of its id', () => {
    // pinned: changing the function would move every stored record to another shard
    expect(['a', 'user:1', '01J9ZQ3V5K', 'héllo', ''].map((id) => shardOf(id, 16))).to.deep.equal([12, 11, 3, 0, 5]);
    for (let i = 0; i < 1000; i++) expect(shardOf(`id${i}`, 16)).to.equal(shardOf(`id${i}`, 16));
    expect(shardOf('anything', 1)).to.equal(0);
  });

  it('spreads ids evenly over the shards', () => {
    for (const shards of [3, 16, 64]) {
      for (const ids of [
        Array.from({ length: 64_000 }, (_, i) => String(i)),
        Array.from({ length: 64_000 }, (_, i) => `01J${(1_700_000_000_000 + i).toString(36).toUpperCase()}X${i % 97}`),
      ]) {
        const counts = new Array<number>(shards).fill(0);
        for (const id of ids) counts[shardOf(id, shards)]++;
        const mean = ids.length / shards;
        // within ±10 % of the mean for each shard, a chi-square far from the tail
        for (const c of counts) expect(Math.abs(c - mean) / mean, `${shards} shards: ${counts.join(' ')}`).to.be.lessThan(0.1);
        const chi2 = counts.reduce((s, c) => s + (c - mean) ** 2 / mean, 0);
        expect(chi2, `${shards} shards`).to.be.lessThan(shards * 3);
      }
    }
  });

  it('tags keys per shard on a cluster, and keeps today\'s keys with one shard or on a single node', () => {
    const sharded = new KeySpace('User', true, 16);
    const id = 'user:1';
    const s = shardOf(id, 16);
    expect(sharded.shards).to.equal(16);
    expect(sharded.record(id)).to.equal(`{User:${s}}:${id}`);
    expect(sharded.lock(id)).to.equal(`{User:${s}}#lock:${id}`);
    expect(sharded.ids(s)).to.equal(`{User:${s}}#ids`);
    expect(sharded.index('age', 3)).to.equal('{User:3}#idx:age');
    expect(sharded.expiry(15)).to.deep.equal(['{User:15}#exp', '{User:15}#expv']);
    expect(sharded.meta(0)).to.equal('{User:0}#meta');
    expect(sharded.recordPrefix(7)).to.equal('{User:7}:');
    expect(slot(sharded.record(id))).to.equal(slot(sharded.ids(s)));
    expect(() => sharded.ids(16)).to.throw(UsageError);
    const single = new KeySpace('User', false, 16);
    expect([single.shards, single.record(id), single.ids(), single.index('age')]).to.deep.equal([1, `User:${id}`, 'User#ids', 'User#idx:age']);
    const one = new KeySpace('User', true, 1);
    expect([one.shards, one.record(id), one.ids(), one.unique('email')]).to.deep.equal([1, `{User}:${id}`, '{User}#ids', '{User}#uniq:email']);
  });

  it('accepts unique fields on a sharded model; refuses bad shard counts', () => {
    expect(() => defineModel('U1', { e: Type.String() }, { unique: ['e'], shards: 4 })).to.not.throw();
    expect(() => defineModel('U2', { e: Type.String() }, { shards: 0 })).to.throw(SchemaError);
    expect(() => defineModel('U3', { e: Type.String() }, { shards: 2.5 })).to.throw(SchemaError);
    expect(() => defineModel('U4', { e: Type.String() }, { unique: ['e'], shards: 1 })).to.not.throw();
  });

  it('merges shard replies in q_before order: each key (absent last), then id in the last key\'s direction', () => {
    const row = (id: string, ...values: (number | string | null)[]): Row => ({
      id: Buffer.from(id),
      values: values.map((v) => (typeof v === 'string' ? Buffer.from(v) : v)),
      stored: values.map((v) => (v === null ? null : String(v))),
    });
    const num = { field: 'n', desc: false, numeric: true };
    const ids = (rows: Row[]) => rows.map((r) => String(r.id));
    const lists = [[row('a', 2), row('d', 10), row('e', null)], [row('b', 2), row('c', 9), row('f', null)]];
    expect(ids(mergePage(lists, [num], 0))).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(ids(mergePage(lists.map((l) => [...l].reverse()), [{ ...num, desc: true }], 0))).to.deep.equal(['d', 'c', 'b', 'a', 'f', 'e']);
    expect(ids(mergePage(lists, [num], 1, 3))).to.deep.equal(['b', 'c', 'd']);
    // bytewise strings: 'B' < 'a' < 'é'
    const str = { field: 's', desc: false, numeric: false };
    expect([row('1', 'é'), row('2', 'a'), row('3', 'B')].sort(comparator([str])).map((r) => String(r.id))).to.deep.equal(['3', '2', '1']);
    // several keys: the second decides ties of the first; ids follow the last key's direction
    const two = [num, { ...str, desc: true }];
    const rows = [row('a', 1, 'x'), row('b', 1, 'y'), row('c', 0, 'x'), row('d', 1, 'y'), row('e', 1, null)];
    expect(ids([...rows].sort(comparator(two)))).to.deep.equal(['c', 'd', 'b', 'a', 'e']);
    // unsorted: by id
    expect(ids(mergePage([[row('b')], [row('a'), row('c')]], [], 0))).to.deep.equal(['a', 'b', 'c']);
    expect(cursorOf(row('k', 3, null)).map(String)).to.deep.equal(['1', '3', '0', '', 'k']);
  });

  it('streams the merge of shards read a page at a time, each page after the last row read', async () => {
    const shards = [[1, 4, 7, 10, 13], [2, 5, 8], [], [3, 6, 9, 11, 12, 14, 15]].map((l) => l.map((n) => String(n).padStart(2, '0')));
    const reads: string[] = [];
    const pageOf = async (shard: number, after: Row | undefined, size: number): Promise<Row[]> => {
      reads.push(`${shard}@${after ? String(after.id) : '-'}`);
      return shards[shard].filter((id) => !after || id > String(after.id)).slice(0, size).map((id) => ({ id: Buffer.from(id), values: [], stored: [] }));
    };
    const out: string[] = [];
    for await (const row of mergeStreams([0, 1, 2, 3], pageOf, [], 2)) out.push(String(row.id));
    expect(out).to.deep.equal(Array.from({ length: 15 }, (_, i) => String(i + 1).padStart(2, '0')));
    expect(reads).to.include.members(['0@-', '0@04', '0@10', '1@-', '1@05', '2@-', '3@11']);
    expect(reads.filter((r) => r.startsWith('2@'))).to.deep.equal(['2@-']);
  });
});
