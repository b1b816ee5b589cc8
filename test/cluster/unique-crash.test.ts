/**
 * Unique values across shards, with a client that stops between any two steps of the protocol
 * (src/model/unique.ts): for every step k of create, save, a pipeline's top-level sets, delete and
 * a create that takes over a stale owner, the client stops right after step k (the test seam `uniqueProtocol.step` throws,
 * and keeps throwing for that client: no later step starts). A second client on its own connection
 * then checks, on the real cluster and real scripts: no two live records hold one value, even when
 * it claims the same values at once; after the lease every value no live record holds can be
 * claimed again (by verifying the stale owner, or after `checkIndexes({ repair: true })`); and
 * after a repair `checkIndexes` reports nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { Type } from 'typebox';
import { connect, defineModel, UniqueViolationError, type Connection } from '../../src/index.js';
import { uniqueProtocol } from '../../src/model/unique.js';
import { connectOptions, raw } from '../helpers/redis.js';

const Crashing = defineModel('Crashing', {
  email: Type.String(), nick: Type.Optional(Type.String()), n: Type.Integer({ default: 0 }),
}, { unique: ['email', 'nick'], indexes: ['n'], shards: 16 });
type Model = typeof Crashing;

class Crash extends Error {}

const VALUES = { email: ['x@x', 'y@x'], nick: ['n1'] } as const;

/** Runs `op` on Crashing, the client stopping after its k-th step (for good); true when it stopped. */
async function stopAfter(k: number, op: () => Promise<unknown>): Promise<{ stopped: boolean; steps: string[] }> {
  const steps: string[] = [];
  uniqueProtocol.step = (name, model) => {
    if (model !== Crashing) return;
    if (steps.length >= k) throw new Crash(`stopped after ${steps.join(', ')}`);
    steps.push(name);
    if (steps.length === k) throw new Crash(`stopped after ${steps.join(', ')}`);
  };
  try {
    await op();
    return { stopped: false, steps };
  } catch (err) {
    if (err instanceof Crash) return { stopped: true, steps };
    throw err;
  }
}

/** Every live record's unique values: no value twice. */
async function expectNoDuplicates(other: Model): Promise<Set<string>> {
  const held = new Set<string>();
  for (const rec of await other.find().toArray()) {
    for (const [field, value] of [['email', rec.email], ['nick', rec.nick]] as const) {
      if (value === undefined) continue;
      expect(held.has(`${field}=${value}`), `${field} ${value} held twice`).to.equal(false);
      held.add(`${field}=${value}`);
    }
  }
  return held;
}

/** A create by the second client: true when it got the values, false on UniqueViolationError. */
async function tryCreate(other: Model, data: { email: string; nick?: string }): Promise<boolean> {
  try {
    await other.create(data);
    return true;
  } catch (err) {
    if (err instanceof UniqueViolationError) return false;
    throw err;
  }
}

interface Scenario {
  readonly name: string;
  setup(): Promise<(() => Promise<unknown>)>;
}

const scenarios: Scenario[] = [
  { name: 'create', setup: async () => () => Crashing.create({ email: 'x@x', nick: 'n1' }) },
  {
    name: 'save that changes a value',
    setup: async () => {
      const a = await Crashing.create({ email: 'x@x', nick: 'n1' });
      a.email = 'y@x';
      return () => a.save();
    },
  },
  {
    name: 'pipeline that sets the values',
    setup: async () => {
      const a = await Crashing.create({ email: 'x@x', nick: 'n1' });
      return () => a.pipeline((p) => {
        p.email.set('y@x');
        p.nick.set('n2');
        p.n.incr(1);
      });
    },
  },
  {
    name: 'delete',
    setup: async () => {
      const a = await Crashing.create({ email: 'x@x', nick: 'n1' });
      return () => a.delete();
    },
  },
  {
    name: 'create over a stale owner',
    setup: async () => {
      // a record deleted by a client that stopped before releasing: its owner is stale
      const b = await Crashing.create({ email: 'x@x' });
      expect((await stopAfter(1, () => b.delete())).steps).to.deep.equal(['write']);
      uniqueProtocol.step = undefined;
      return () => Crashing.create({ email: 'x@x', nick: 'n1' });
    },
  },
];

describe('unique values across shards: a client stopped between any two steps', function () {
  this.timeout(600_000);
  let other: Connection;
  let Other: Model;
  const saved = { ...uniqueProtocol };

  before(async () => {
    uniqueProtocol.leaseMs = 1_000;
    uniqueProtocol.skewMs = 200;
    other = await connect(connectOptions);
    Other = Crashing.withDb(other);
  });

  after(async () => {
    Object.assign(uniqueProtocol, saved);
    uniqueProtocol.step = undefined;
    await other.close();
  });

  for (const scenario of scenarios) {
    it(`${scenario.name}: never two live records with one value; every value free again after the lease or a repair`, async () => {
      let stops = 0;
      for (let k = 1; ; k++) {
        await raw.flushAll();
        const op = await scenario.setup();
        const { stopped, steps } = await stopAfter(k, op);
        uniqueProtocol.step = undefined;
        if (!stopped) break;
        stops++;
        await sleep(20); // what was in flight when the client stopped lands
        // the second client wants the same values at once: it may be refused, never doubled
        await tryCreate(Other, { email: 'x@x', nick: 'n1' });
        await tryCreate(Other, { email: 'y@x' });
        await expectNoDuplicates(Other);
        await sleep(uniqueProtocol.leaseMs + uniqueProtocol.skewMs + 50);
        if (k % 2 === 0) {
          await Other.checkIndexes({ repair: true });
          expect(await Other.checkIndexes(), `after ${steps.join(', ')}`).to.include({ stale: 0, missing: 0 });
        }
        // every value no live record holds is free: claimed by verifying its stale owner, or after the repair
        const held = await expectNoDuplicates(Other);
        for (const [field, values] of Object.entries(VALUES)) {
          for (const value of values) {
            if (held.has(`${field}=${value}`)) continue;
            const data = field === 'email' ? { email: value } : { email: `free-${value}`, nick: value };
            expect(await tryCreate(Other, data), `${field} ${value} free after ${steps.join(', ')}`).to.equal(true);
          }
        }
        await expectNoDuplicates(Other);
        await Other.checkIndexes({ repair: true });
        expect(await Other.checkIndexes(), `after ${steps.join(', ')}`).to.include({ stale: 0, missing: 0 });
      }
      expect(stops).to.be.greaterThan(2);
    });
  }
});
