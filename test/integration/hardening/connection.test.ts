import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { Type } from 'typebox';
import { ConnectionError, RapyerError, connect, defineModel, type Connection } from '../../../src/index.js';
import { freePort } from '../../helpers/ports.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A Redis server of the test's own, that it can kill and restart on the same port; every write is
 * fsynced to its append-only file before the reply, so acknowledged writes survive a kill -9.
 */
class OwnRedis {
  private proc?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'rapyer-conn-'));
  constructor(readonly port: number) {}
  get url(): string { return `redis://127.0.0.1:${this.port}`; }

  async start(): Promise<void> {
    this.proc = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', 'yes', '--appendfsync', 'always',
    ], { stdio: 'ignore' });
    const probe = createClient({ url: this.url, socket: { reconnectStrategy: false } });
    probe.on('error', () => {});
    for (let i = 0; ; i++) {
      try {
        await probe.connect();
        break;
      } catch (err) {
        if (i > 100) throw err;
        await sleep(50);
      }
    }
    await probe.close();
  }

  async kill(): Promise<void> {
    const proc = this.proc!;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('hardening: lost connections', function () {
  this.timeout(120_000);
  let server: OwnRedis;
  const Thing = defineModel('HardConnThing', { n: Type.Integer({ default: 0 }) });

  beforeEach(async () => {
    server = new OwnRedis(await freePort());
    await server.start();
  });
  afterEach(async () => server.stop());

  it('an app under CLIENT KILL and a Redis restart stays alive, every failure a ConnectionError, no acknowledged write lost', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/connection-load.ts'], {
      env: { ...process.env, REDIS_URL: server.url }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let signalWorking: () => void;
    const working = new Promise<void>((resolve) => (signalWorking = resolve));
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('working')) signalWorking();
    });
    child.stderr!.on('data', (d: Buffer) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const admin = createClient({ url: server.url });
    admin.on('error', () => {});
    await admin.connect();
    await Promise.race([working, exited]); // the child connected and works (or died)
    await sleep(300);
    for (let round = 0; round < 10; round++) {
      await sleep(300);
      if (round === 5) {
        await server.kill();
        await sleep(300);
        await server.start();
      } else {
        await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']).catch(() => undefined);
      }
    }
    await sleep(500);
    child.stdin!.end();
    const code = await exited;
    admin.destroy();
    expect(code, `${out}\n${err}`).to.equal(0);
    const summary = JSON.parse(out.trim().split('\n').pop()!) as { calls: number; failed: number; connectionErrors: number; lost: string[] };
    expect(summary.lost).to.deep.equal([]);
    expect(summary.failed).to.be.greaterThan(0); // the faults did reach calls in flight
    expect(summary.connectionErrors).to.be.greaterThan(0); // and db.on('error') saw them
  });

  it('a call made while Redis is unreachable rejects with ConnectionError; the connection comes back by itself', async () => {
    const db: Connection = await connect({ url: server.url, commandTimeoutMs: 500 });
    const seen: unknown[] = [];
    db.on('error', (e) => seen.push(e));
    const T = Thing.withDb(db);
    const t = await T.create({});
    await server.kill();
    const err = await T.get(t.id).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConnectionError);
    expect(err).to.be.instanceOf(RapyerError);
    expect((err as Error).message).to.not.equal('');
    expect(await t.$.n.incr(1).catch((e: unknown) => e)).to.be.instanceOf(ConnectionError);
    expect(seen.length).to.be.greaterThan(0);
    expect(seen.every((e) => e instanceof ConnectionError)).to.equal(true);
    await server.start();
    for (let i = 0; ; i++) {
      const r = await T.getOrNull(t.id).catch((e: unknown) => e);
      if (!(r instanceof ConnectionError)) break;
      if (i > 100) throw r;
      await sleep(100);
    }
    expect((await t.$.n.incr(1))).to.be.a('number');
    await db.close();
  });

  it('connect() to an unreachable server rejects with ConnectionError', async () => {
    const port = await freePort();
    const err = await connect({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConnectionError);
  });
});
