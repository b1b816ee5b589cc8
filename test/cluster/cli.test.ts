/**
 * The `rapyer` CLI against the local 3-master cluster: given the URL of one node it finds out that
 * the server is a cluster (or is told with --cluster), walks every master for the models, and reads
 * each key on the master holding it; a sharded model's records, indexes and bytes add up its shards.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { defineModel } from '../../src/index.js';
import { runCli, type Run } from '../helpers/cli.js';
import { connectOptions, raw } from '../helpers/redis.js';

/** The URL of one node: the CLI is pointed at a single node, as a user would. */
const nodeUrl = (i: number): string => (connectOptions as { cluster: { rootNodes: { url: string }[] } }).cluster.rootNodes[i].url;

const rapyer = (url: string, ...args: string[]): Promise<Run> => runCli(...args, '--url', url);

const shape = {
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  tags: Type.Array(Type.String(), { default: [] }),
};

describe('rapyer CLI on a cluster', function () {
  this.timeout(60_000);

  it('models: finds the models of every master from any node (detected), sharded records counted over their shards', async () => {
    const Plain = defineModel('CliClPlain', shape, { indexes: ['age'] });
    const Spread = defineModel('CliClSpread', shape, { key: 'name', indexes: ['age'], shards: 8 });
    await Plain.insertMany([{ name: 'a', age: 1 }, { name: 'b', age: 2 }]);
    await Spread.insertMany(Array.from({ length: 40 }, (_, i) => ({ name: `p${i}`, age: i })));
    // the sharded model's records sit in several shards (hash tags), its layout in its first shard's slot
    const tags = new Set(Array.from({ length: 40 }, (_, i) => Spread.keys.record(`p${i}`)).map((key) => key.slice(0, key.indexOf('}') + 1)));
    expect(tags.size).to.be.greaterThan(1);
    for (const i of [0, 1, 2]) {
      const run = await rapyer(nodeUrl(i), 'models');
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/^CliClPlain\s+2\s+name, age, tags\s+age/m);
      expect(run.stdout).to.match(/^CliClSpread\s+40\s+name, age, tags\s+age/m);
    }
  });

  it('show decodes a record of a sharded model; stats add up the shards; --cluster needs no detection', async () => {
    const Spread = defineModel('CliClShow', shape, { key: 'name', indexes: ['age'], shards: 4 });
    await Spread.insertMany(Array.from({ length: 20 }, (_, i) => ({ name: `p${i}`, age: i, tags: [`t${i}`] })));
    const u = await Spread.get('p7');
    const shown = await rapyer(nodeUrl(1), 'show', u.key, '--json', '--cluster');
    expect(shown.code, shown.stderr).to.equal(0);
    expect(JSON.parse(shown.stdout)).to.deep.include({ key: u.key, model: 'CliClShow', id: 'p7', data: { name: 'p7', age: 7, tags: ['t7'] } });
    const stats = await rapyer(nodeUrl(2), 'stats', '--json');
    expect(stats.code, stats.stderr).to.equal(0);
    const [mine] = (JSON.parse(stats.stdout) as { model: string; records: number; bytesPerRecord: number; indexes: { key: string; entries: number }[] }[])
      .filter((s) => s.model === 'CliClShow');
    expect(mine.records).to.equal(20);
    expect(mine.bytesPerRecord).to.be.greaterThan(0);
    expect(mine.indexes).to.have.length(1);
    expect(mine.indexes[0]).to.deep.include({ key: `${Spread.keys.index('age', 0)} (+3 shards)`, entries: 20 });
  });

  it('check finds and repairs a broken index of a sharded model', async () => {
    const Spread = defineModel('CliClCheck', shape, { key: 'name', indexes: ['age'], shards: 4 });
    await Spread.insertMany(Array.from({ length: 12 }, (_, i) => ({ name: `p${i}`, age: i })));
    const ix = Spread.keys.index('age', Spread.keys.shardOf('p3'));
    await raw.zRem(ix, 'p3');
    const found = await rapyer(nodeUrl(0), 'check', '--model', 'CliClCheck');
    expect(found.code).to.equal(1);
    expect(found.stdout).to.contain('CliClCheck: 12 records, 1 missing index entries, 0 stale index entries');
    const repaired = await rapyer(nodeUrl(0), 'check', '--model', 'CliClCheck', '--repair');
    expect(repaired.code, repaired.stderr).to.equal(0);
    expect(await raw.zScore(ix, 'p3')).to.equal(3);
  });
});
