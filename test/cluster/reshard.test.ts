/**
 * Changing a sharded model's shard count on the 3-master cluster: the recorded count, SchemaError
 * for another declared count, and `reshard` moving 20,000 records from 4 to 16 shards in a child
 * process killed in the middle, resumed here, with every record readable throughout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { defineModel, ReshardingError, SchemaError } from '../../src/index.js';
import { shardOf } from '../../src/model/keys.js';
import { connectOptions, raw } from '../helpers/redis.js';
import { Moved, movedShape } from './fixtures/moved.js';

const CHILD = fileURLToPath(new URL('./fixtures/reshard-child.ts', import.meta.url));
const RECORDS = 20_000;
const item = (i: number) => ({ code: `c${i}`, n: i, tag: `t${i % 7}` });

/** Runs the child reshard and SIGKILLs it once it reports `killAt` records moved; resolves to its last report. */
function reshardInChild(killAt: number): Promise<number> {
  const rootNodes = JSON.stringify(connectOptions.cluster!.rootNodes);
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, rootNodes], { stdio: ['ignore', 'pipe', 'inherit'] });
  let moved = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const m of chunk.toString().matchAll(/moved (\d+)/g)) moved = Number(m[1]);
    if (moved >= killAt) child.kill('SIGKILL');
  });
  return new Promise((resolve) => child.once('exit', () => resolve(moved)));
}

/** Reads random records one after another until `stop()`; every read must find its record intact. */
function readThroughout(read: () => (id: string) => Promise<{ n: number } | null>) {
  let running = true;
  let reads = 0;
  const failures: string[] = [];
  const done = (async () => {
    while (running) {
      const i = Math.floor(Math.random() * RECORDS);
      try {
        const rec = await read()(`c${i}`);
        if (rec?.n !== i) failures.push(`c${i}: ${JSON.stringify(rec)}`);
      } catch (err) {
        failures.push(`c${i}: ${String(err)}`);
        if (failures.length > 5) return;
      }
      reads++;
    }
  })();
  return { stop: async () => { running = false; await done; return { reads, failures }; } };
}

describe('reshard', function () {
  this.timeout(300_000);

  it('records the shard count; another declared count is a SchemaError naming both', async () => {
    await Moved.create(item(1));
    const Eight = defineModel('Moved', movedShape, { indexes: ['n', 'tag'], key: 'code', shards: 8 });
    const err = await Eight.get('c1').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SchemaError);
    expect((err as Error).message).to.match(/shards: 8/).and.match(/written with 4 shards/);
    expect(await raw.hGet('{Moved}#meta', 'shards')).to.equal('4');
  });

  it('moves 20,000 records from 4 to 16 shards, killed midway and resumed, every record readable throughout', async () => {
    await Moved.insertMany(Array.from({ length: RECORDS }, (_, i) => item(i)), { chunkSize: 1000 });
    const Sixteen = defineModel('Moved', movedShape, { indexes: ['n', 'tag'], unique: ['code'], key: 'code', shards: 16 });

    let reader: (id: string) => Promise<{ n: number } | null> = (id) => Moved.getOrNull(id);
    const reads = readThroughout(() => reader);
    const movedBefore = await reshardInChild(4_000);
    expect(movedBefore).to.be.at.least(4_000);
    expect(movedBefore).to.be.below(RECORDS * 0.75);

    // mid-move: reads find every record (old shard, then new), writes are refused
    const state = await Sixteen.shardState();
    expect(state.moving).to.deep.equal({ from: 4, to: 16 });
    const write = await Moved.create(item(RECORDS + 1)).catch((e: unknown) => e);
    expect(write).to.be.instanceOf(ReshardingError);
    expect((write as ReshardingError).layout).to.equal('4>16');
    const all = Array.from({ length: RECORDS }, (_, i) => `c${i}`);
    const mid = await Sixteen.getMany(all.slice(0, 2_000));
    expect(mid.map((r) => r.n)).to.deep.equal(Array.from({ length: 2_000 }, (_, i) => i));
    // queries are not yet move-aware: they are refused until the move ends, like writes
    expect(await Sixteen.find((u) => u.tag.eq('t3')).count().catch((e: unknown) => e)).to.be.instanceOf(ReshardingError);
    expect(await Moved.find((u) => u.n.lt(10)).delete().catch((e: unknown) => e)).to.be.instanceOf(ReshardingError);

    reader = (id) => Sixteen.getOrNull(id);
    const result = await Sixteen.reshard(16, { chunkSize: 500 });
    expect(result.from).to.equal(4);
    expect(result.to).to.equal(16);
    // the two runs' counts need not add up exactly (the child may die between a chunk and its
    // progress report); where every record ends up is checked below
    expect(result.moved).to.be.above(0);
    const { reads: n, failures } = await reads.stop();
    expect(failures).to.deep.equal([]);
    expect(n).to.be.above(100);

    expect(await Sixteen.checkIndexes()).to.deep.include({ records: RECORDS, missing: 0, stale: 0 });
    const after = await Sixteen.getMany(all);
    expect(after.map((r) => r.n)).to.deep.equal(Array.from({ length: RECORDS }, (_, i) => i));
    expect(after.filter((r) => r.key !== `{Moved:${shardOf(r.id, 16)}}:${r.id}`)).to.deep.equal([]);
    expect(await Sixteen.find((u) => u.tag.eq('t3')).count()).to.equal(Math.ceil((RECORDS - 3) / 7));
    expect(await raw.hGet('{Moved}#meta', 'shards')).to.equal('16');
    // this process saw the move, so its reads stayed right; its next write finds the new count
    const stale = await Moved.create(item(RECORDS + 3)).catch((e: unknown) => e);
    expect(stale).to.be.instanceOf(SchemaError);
    expect((stale as Error).message).to.match(/shards: 4/).and.match(/16 shards/);
    await Sixteen.create(item(RECORDS + 2));
    expect((await Sixteen.get(`c${RECORDS + 2}`)).n).to.equal(RECORDS + 2);
  });

  it('stops between chunks on an aborted signal, and resumes', async () => {
    await Moved.insertMany(Array.from({ length: 1_000 }, (_, i) => item(i)));
    const controller = new AbortController();
    const err = await Moved.reshard(6, {
      chunkSize: 50, signal: controller.signal, onProgress: ({ scanned }) => { if (scanned >= 300) controller.abort(); },
    }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    const Six = defineModel('Moved', movedShape, { indexes: ['n', 'tag'], unique: ['code'], key: 'code', shards: 6 });
    expect((await Six.shardState()).moving).to.deep.equal({ from: 4, to: 6 });
    expect(await Moved.reshard(8).catch((e: unknown) => e)).to.be.instanceOf(ReshardingError);
    await Six.reshard(6);
    expect(await Six.checkIndexes()).to.deep.include({ records: 1_000, missing: 0, stale: 0 });
    expect((await Six.getMany(Array.from({ length: 1_000 }, (_, i) => `c${i}`))).length).to.equal(1_000);
  });
});
