/** The events of the `rapyer:script` diagnostics channel, recorded while a test's code runs. */
import { tracingChannel } from 'node:diagnostics_channel';
import { SCRIPT_CHANNEL, type ScriptEvent } from '../../src/index.js';

/** Records every event of the channel while `fn` runs. */
export async function traced(fn: () => Promise<unknown>): Promise<[string, ScriptEvent][]> {
  const seen: [string, ScriptEvent][] = [];
  const handlers = {
    start: (e: ScriptEvent) => void seen.push(['start', { ...e }]),
    end: () => {},
    asyncStart: () => {},
    asyncEnd: (e: ScriptEvent) => void seen.push(['asyncEnd', { ...e }]),
    error: (e: ScriptEvent) => void seen.push(['error', { ...e }]),
  };
  const channel = tracingChannel<unknown, ScriptEvent>(SCRIPT_CHANNEL);
  channel.subscribe(handlers);
  try {
    await fn();
  } finally {
    channel.unsubscribe(handlers);
  }
  return seen;
}
