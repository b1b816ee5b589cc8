/**
 * DateTime fields: set, add, sub, setNow.
 * Immediate (`u.$`) and pipelined, against a real Redis: the results, the local record and the
 * stored one (re-read with `Model.get`) must agree.
 */
import { expect } from 'chai';
import { defineModel, t } from '../../../src/index.js';
import { synced, invalid } from './helpers.js';

const When = defineModel('FoWhen', {
  at: t.DateTime({ default: () => new Date(0) }),
  until: t.DateTime({ maximum: new Date('2030-01-01T00:00:00.000Z'), default: () => new Date('2029-12-31T23:59:00.000Z') }),
});

const d = (iso: string): Date => new Date(iso);

describe('field ops: DateTime', () => {
  it('set, add(ms), add(duration), sub (immediate)', async () => {
    const u = await When.create({});
    expect(await u.$.at.set(d('2024-05-01T10:00:00.000Z'))).to.deep.equal(d('2024-05-01T10:00:00.000Z'));
    expect(await u.$.at.add(1500)).to.deep.equal(d('2024-05-01T10:00:01.500Z'));
    expect(await u.$.at.add({ days: 1, hours: 2, minutes: 3, seconds: 4, ms: 5 })).to.deep.equal(d('2024-05-02T12:03:05.505Z'));
    expect(await u.$.at.sub({ hours: 12 })).to.deep.equal(d('2024-05-02T00:03:05.505Z'));
    expect(await u.$.at.sub(505)).to.deep.equal(d('2024-05-02T00:03:05.000Z'));
    expect(await u.$.at.add(-5000)).to.deep.equal(d('2024-05-02T00:03:00.000Z'));
    expect(u.at).to.be.instanceOf(Date);
    expect((await synced(When, u)).at).to.deep.equal(d('2024-05-02T00:03:00.000Z'));
  });

  it('crosses month ends, leap days and years exactly', async () => {
    const u = await When.create({ at: d('2024-02-28T23:59:59.999Z') });
    expect(await u.$.at.add({ days: 1 })).to.deep.equal(d('2024-02-29T23:59:59.999Z'));
    expect(await u.$.at.add(1)).to.deep.equal(d('2024-03-01T00:00:00.000Z'));
    expect(await u.$.at.sub({ ms: 1 })).to.deep.equal(d('2024-02-29T23:59:59.999Z'));
    expect(await u.$.at.sub({ days: 366 })).to.deep.equal(d('2023-02-28T23:59:59.999Z'));
    expect(await u.$.at.add({ days: 1 })).to.deep.equal(d('2023-03-01T23:59:59.999Z'));
    await u.$.at.set(d('2023-12-31T23:59:59.999Z'));
    expect(await u.$.at.add(1)).to.deep.equal(d('2024-01-01T00:00:00.000Z'));
    expect(await u.$.at.sub({ seconds: 1 })).to.deep.equal(d('2023-12-31T23:59:59.000Z'));
    expect(await u.$.at.set(new Date(0))).to.deep.equal(new Date(0));
    expect(await u.$.at.sub({ days: 1 })).to.deep.equal(d('1969-12-31T00:00:00.000Z'));
    expect((await synced(When, u)).at).to.deep.equal(d('1969-12-31T00:00:00.000Z'));
  });

  it('add, sub, set (pipeline)', async () => {
    const u = await When.create({ at: d('2024-02-28T23:59:59.999Z') });
    await u.pipeline((p) => { p.at.add({ days: 1 }); p.at.add(1); p.at.add({ hours: 24 * 306 }); p.at.sub({ minutes: 1 }); });
    expect(u.at).to.deep.equal(d('2024-12-31T23:59:00.000Z'));
    expect((await synced(When, u)).at).to.deep.equal(d('2024-12-31T23:59:00.000Z'));
    await u.pipeline((p) => { p.at.set(d('2000-01-01T00:00:00.000Z')); p.at.add({ days: 59 }); });
    expect((await synced(When, u)).at).to.deep.equal(d('2000-02-29T00:00:00.000Z'));
  });

  it('setNow uses the server clock (immediate and pipeline)', async () => {
    const u = await When.create({});
    const before = Date.now();
    const now = await u.$.at.setNow();
    expect(now).to.be.instanceOf(Date);
    expect(Math.abs(now.getTime() - before)).to.be.lessThan(5000);
    expect(u.at).to.deep.equal(now);
    await u.$.at.set(new Date(0));
    await u.pipeline((p) => { p.at.setNow(); p.at.add({ days: 1 }); });
    expect(Math.abs(u.at.getTime() - 86_400_000 - Date.now())).to.be.lessThan(5000);
    await synced(When, u);
  });

  it('a result past the maximum raises ValidationError and writes nothing', async () => {
    const u = await When.create({});
    await invalid(u, () => u.$.until.add({ seconds: 61 }), 'until', 'maximum');
    await invalid(u, () => u.pipeline((p) => { p.at.setNow(); p.until.add({ days: 1 }); }), 'until', 'maximum');
    expect(await u.$.until.add({ seconds: 60 })).to.deep.equal(d('2030-01-01T00:00:00.000Z'));
  });
});
