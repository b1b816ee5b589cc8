/**
 * A bound on how long a command may wait in a cluster node's queue, shared by the commands sent
 * close together. node-redis's own bound (`commandOptions.timeout`) arms an `AbortSignal.timeout`
 * and two listeners per command: on a cluster that was over a third of an increment's client CPU
 * at 64 callers. Here one AbortController serves every command sent within a window of
 * `ms / WINDOWS`, and aborts when the first of them has waited `ms`: each command waits at most
 * `ms`, and at least `ms - ms / WINDOWS`. node-redis drops an aborted command that is still queued
 * (it is never sent later) and ignores the abort for one already written (its reply still comes).
 */
import { setMaxListeners } from 'node:events';

/** How many windows a bound spans: the bound's precision. */
const WINDOWS = 16;

export class SharedDeadline {
  private readonly window: number;
  private current: AbortController | undefined;
  private opened = 0;

  constructor(private readonly ms: number) {
    this.window = ms / WINDOWS;
  }

  /** The signal for a command sent now. */
  signal(): AbortSignal {
    const now = performance.now();
    if (this.current === undefined || now - this.opened >= this.window) {
      const controller = new AbortController();
      // one listener per queued command: many, by design
      setMaxListeners(0, controller.signal);
      // unref: a pending bound never keeps the process alive
      setTimeout(() => controller.abort(), this.ms).unref();
      this.current = controller;
      this.opened = now;
    }
    return this.current.signal;
  }
}
