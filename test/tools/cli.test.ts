/**
 * The `rapyer` CLI, spawned as a user would run it, against the test Redis. It knows the models only
 * from the layouts they wrote to the server. Each test declares its own model (the data, layouts
 * included, is flushed between tests, and a model writes its layout once per connection).
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { defineModel, t } from '../../src/index.js';
import { runCli, type Run } from '../helpers/cli.js';
import { raw, url } from '../helpers/redis.js';

const rapyer = (...args: string[]): Promise<Run> => runCli(...args, '--url', url);

const shape = {
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  avatar: t.Bytes({ default: new Uint8Array() }),
  seen: t.DateTime({ default: () => new Date(0) }),
  tags: Type.Array(Type.String(), { default: [] }),
  notes: Type.Record(Type.String(), Type.Integer(), { default: {} }),
  address: Type.Optional(Type.Object({ city: Type.String(), zip: Type.String() })),
};

describe('rapyer CLI', function () {
  this.timeout(60_000);

  it('models: lists the models stored on the server with their records and indexes', async () => {
    const Person = defineModel('CliPerson', shape, { indexes: ['age', 'address.city'], unique: ['name'], ttl: 600 });
    await Person.create({ name: 'ada', age: 36 });
    await Person.create({ name: 'bob', age: 7 });
    const run = await rapyer('models');
    expect(run.code).to.equal(0);
    const line = run.stdout.split('\n').find((l) => l.startsWith('CliPerson'));
    expect(line).to.match(/^CliPerson\s+2\s+name, age, avatar, seen, tags, notes, address\s+age, address\.city\s+name\s+600 s$/);
  });

  it('show: decodes a record with its layout (arrays, dicts, nested objects, bytes, dates, version, TTL)', async () => {
    const Person = defineModel('CliShow', shape, { indexes: ['age'] });
    const u = await Person.create({
      name: 'ada', age: 36, avatar: new Uint8Array([0, 255, 10]), seen: new Date('2026-01-02T03:04:05.006Z'),
      tags: ['a', 'b c'], notes: { 'x.y': 3 }, address: { city: 'Paris', zip: '75001' },
    });
    await u.$.tags.prepend('z');      // a moved array head: the decoder must follow it
    await u.expire(100);
    const run = await rapyer('show', u.key, '--json');
    expect(run.code, run.stderr).to.equal(0);
    const shown = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(shown).to.deep.include({ key: u.key, model: 'CliShow', id: u.id, version: '2' });
    expect(shown.ttl).to.be.within(1, 100);
    expect(shown.data).to.deep.equal({
      name: 'ada', age: 36, avatar: 'base64:AP8K', seen: '2026-01-02T03:04:05.006Z',
      tags: ['z', 'a', 'b c'], notes: { 'x.y': 3 }, address: { city: 'Paris', zip: '75001' },
    });
    const text = await rapyer('show', u.key);
    expect(text.stdout).to.match(/^model\s+CliShow$/m).and.match(/"city": "Paris"/);
  });

  it('show: a key that is not a record says so and exits 1', async () => {
    const Person = defineModel('CliMissing', shape);
    await Person.create({ name: 'ada', age: 1 });
    const absent = await rapyer('show', 'CliMissing:nope');
    expect(absent.code).to.equal(1);
    expect(absent.stderr).to.contain('no record at "CliMissing:nope"');
    const unknown = await rapyer('show', 'Nobody:1');
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.contain('no layout stored for model "Nobody"');
  });

  it('check: finds a broken index (exit 1), --repair mends it', async () => {
    const Person = defineModel('CliCheck', shape, { indexes: ['age'], unique: ['name'] });
    const u = await Person.create({ name: 'ada', age: 36 });
    await Person.create({ name: 'bob', age: 40 });
    await raw.zRem('CliCheck#idx:age', u.id);
    await raw.zAdd('CliCheck#idx:age', { score: 1, value: 'ghost' });
    const found = await rapyer('check', '--model', 'CliCheck');
    expect(found.code).to.equal(1);
    expect(found.stdout).to.contain('CliCheck: 2 records, 1 missing index entries, 1 stale index entries (run again with --repair');
    const repaired = await rapyer('check', '--model', 'CliCheck', '--repair');
    expect(repaired.code).to.equal(0);
    expect(await raw.zScore('CliCheck#idx:age', u.id)).to.equal(36);
    expect(await raw.zScore('CliCheck#idx:age', 'ghost')).to.equal(null);
    const clean = await rapyer('check', '--model', 'CliCheck');
    expect(clean.code).to.equal(0);
    expect(clean.stdout).to.contain('0 missing index entries, 0 stale index entries');
  });

  it('stats: records, index entries and bytes per record, per model', async () => {
    const Person = defineModel('CliStats', shape, { indexes: ['age'], unique: ['name'] });
    await Person.insertMany(Array.from({ length: 30 }, (_, i) => ({ name: `p${i}`, age: i })));
    const run = await rapyer('stats', '--json');
    expect(run.code, run.stderr).to.equal(0);
    const [stats] = (JSON.parse(run.stdout) as { model: string; records: number; bytesPerRecord: number; indexes: { key: string; entries: number; bytes: number }[] }[])
      .filter((s) => s.model === 'CliStats');
    expect(stats.records).to.equal(30);
    expect(stats.bytesPerRecord).to.be.greaterThan(50);
    expect(stats.indexes.map((x) => [x.key, x.entries])).to.deep.equal([['CliStats#idx:age', 30], ['CliStats#uniq:name', 30]]);
    expect(stats.indexes.every((x) => x.bytes > 0)).to.equal(true);
  });

  it('usage: no command prints the usage and exits 2', async () => {
    const run = await rapyer();
    expect(run.code).to.equal(2);
    expect(run.stdout).to.contain('usage: rapyer <command>');
  });
});
