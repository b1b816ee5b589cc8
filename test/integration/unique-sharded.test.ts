/**
 * A sharded model with unique fields, on whatever the suite runs on: on a single node (one shard)
 * the write's own script checks the values; on the cluster (16 shards) owners across shards do
 * (src/model/unique.ts, more in test/cluster/unique-*.test.ts). Same answers either way, except
 * that on the cluster a field operation other than a top-level set cannot write such a field.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { defineModel, UniqueViolationError, UsageError } from '../../src/index.js';
import { onCluster } from '../helpers/redis.js';

const Handle = defineModel('Handle', { name: Type.String(), n: Type.Integer({ default: 0 }) }, { unique: ['name'], shards: 16 });

describe('unique fields of a sharded model', () => {
  it('refuses a value twice through create, save and insertMany; frees it on delete', async () => {
    const a = await Handle.create({ name: 'ada' });
    const b = await Handle.create({ name: 'bob' });
    expect(await Handle.create({ name: 'ada' }).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
    b.name = 'ada';
    expect(await b.save().catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
    expect((await Handle.get(b.id)).name).to.equal('bob');
    const err = await Handle.insertMany([{ name: 'cy' }, { name: 'bob' }]).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UniqueViolationError);
    expect((err as UniqueViolationError).index).to.equal(1);
    await a.delete();
    await Handle.create({ name: 'ada' });
    expect(await Handle.checkIndexes()).to.include({ stale: 0, missing: 0 });
  });

  it('field operations on the unique field: checked in the script on one node; across shards a set claims its value, others are refused', async () => {
    const a = await Handle.create({ name: 'ada' });
    await Handle.create({ name: 'bob' });
    expect(await a.$.name.set('bob').catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
    expect(await a.$.name.set('cy')).to.equal('cy');
    await Handle.create({ name: 'ada' });
    const append = await a.$.name.append('!').catch((e: unknown) => e);
    if (onCluster) expect(append).to.be.instanceOf(UsageError);
    else expect(append).to.equal('cy!');
    expect(await a.$.n.incr()).to.equal(1);
    expect(await Handle.checkIndexes()).to.include({ stale: 0, missing: 0 });
  });
});
