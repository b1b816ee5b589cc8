/**
 * Waits for a state the server reports (a key expired, a lock changed hands) by asking it again
 * every few milliseconds, instead of sleeping for a guessed time; fails after `timeoutMs`.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}
