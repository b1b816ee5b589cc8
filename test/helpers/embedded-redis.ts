/**
 * An embedded Redis for tests and the demo: redis-memory-server running the system `redis-server`
 * when one is on PATH (never a download here), or an existing server when REDIS_URL is set.
 */
import { execFileSync } from 'node:child_process';
import { RedisMemoryServer } from 'redis-memory-server';

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
}

function systemRedis(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function startRedis(): Promise<EmbeddedRedis> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  const systemBinary = systemRedis();
  const server = new RedisMemoryServer(systemBinary ? { binary: { systemBinary } } : {});
  const host = await server.getHost();
  const port = await server.getPort();
  return { url: `redis://${host}:${port}`, stop: async () => void (await server.stop()) };
}
