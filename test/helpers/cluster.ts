/**
 * A real local Redis Cluster for tests: three masters run by the system `redis-server` (never a
 * download, no docker), each in its own temp dir on a free 127.0.0.1 port, slots split in three
 * (CLUSTER ADDSLOTSRANGE), joined with CLUSTER MEET; ready when every node reports
 * `cluster_state:ok` and sees the whole slot map. `stop()` kills the processes and removes the dirs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type RedisClientType } from 'redis';

export interface LocalCluster {
  rootNodes: { url: string }[];
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const SLOT_COUNT = 16384;

/** Resolves when `port` can be bound on 127.0.0.1 right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** A port whose cluster bus port (port + 10000) is free too, not handed out already. */
async function freePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000) || taken.has(port - 10_000)) continue;
    if ((await isFree(port)) && (await isFree(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port pair for a cluster node');
}

interface Node {
  port: number;
  dir: string;
  proc: ChildProcess;
  exited: Promise<void>;
  log: string[];
}

async function startNode(port: number): Promise<Node> {
  const dir = await mkdtemp(join(tmpdir(), 'rapyer-cluster-'));
  const proc = spawn('redis-server', [
    '--port', String(port), '--bind', HOST, '--dir', dir,
    '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000',
    '--save', '', '--appendonly', 'no', '--protected-mode', 'no',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  proc.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  proc.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return { port, dir, proc, exited, log };
}

async function stopNode(node: Node): Promise<void> {
  if (node.proc.exitCode === null && node.proc.signalCode === null) {
    node.proc.kill('SIGTERM');
    const killed = await Promise.race([node.exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!killed) {
      node.proc.kill('SIGKILL');
      await node.exited;
    }
  }
  await rm(node.dir, { recursive: true, force: true });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`cluster: timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Starts a 3-master cluster and resolves once every node serves the full slot map. */
export async function startCluster(masters = 3): Promise<LocalCluster> {
  const taken = new Set<number>();
  const nodes: Node[] = [];
  const stop = async () => void (await Promise.all(nodes.map(stopNode)));
  const clients: RedisClientType[] = [];
  try {
    for (let i = 0; i < masters; i++) nodes.push(await startNode(await freePort(taken)));
    for (const node of nodes) {
      const client = createClient({ url: `redis://${HOST}:${node.port}`, socket: { reconnectStrategy: 100 } });
      client.on('error', () => {}); // reconnects while the server starts
      await until(`redis-server on port ${node.port}`, async () => {
        if (node.proc.exitCode !== null) throw new Error(`redis-server exited: ${node.log.join('')}`);
        if (!client.isOpen) await client.connect();
        return (await client.ping()) === 'PONG';
      });
      clients.push(client);
    }
    const per = Math.ceil(SLOT_COUNT / masters);
    await Promise.all(clients.map(async (client, i) => {
      await client.sendCommand(['CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1)]);
      const first = i * per;
      const last = Math.min(SLOT_COUNT, (i + 1) * per) - 1;
      await client.sendCommand(['CLUSTER', 'ADDSLOTSRANGE', String(first), String(last)]);
    }));
    for (const node of nodes.slice(1)) await clients[0].sendCommand(['CLUSTER', 'MEET', HOST, String(node.port)]);
    await until('cluster_state:ok on every node', async () => {
      const views = await Promise.all(clients.map(async (client) => ({
        info: String(await client.sendCommand(['CLUSTER', 'INFO'])),
        slots: (await client.sendCommand(['CLUSTER', 'SLOTS'])) as unknown[],
      })));
      return views.every(({ info, slots }) =>
        info.includes('cluster_state:ok') &&
        info.includes(`cluster_known_nodes:${masters}`) &&
        info.includes(`cluster_slots_ok:${SLOT_COUNT}`) &&
        slots.length === masters);
    });
    return { rootNodes: nodes.map((n) => ({ url: `redis://${HOST}:${n.port}` })), stop };
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await Promise.all(clients.map((c) => (c.isOpen ? c.quit() : undefined)));
  }
}
