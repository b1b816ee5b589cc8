/** SharedDeadline (src/client/deadline.ts): one signal per window, aborted once its first command waited the bound. */
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { SharedDeadline } from '../../src/client/deadline.js';

const aborted = (signal: AbortSignal) => new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));

describe('SharedDeadline', () => {
  it('gives commands sent close together one signal, and aborts it once the bound has passed, never sooner', async () => {
    const deadline = new SharedDeadline(160); // windows of 10 ms
    const made = performance.now();
    const a = deadline.signal();
    expect(deadline.signal()).to.equal(a);
    await sleep(30);
    const b = deadline.signal();
    expect(b).to.not.equal(a);
    await aborted(a);
    expect(performance.now() - made).to.be.at.least(159); // a loaded machine may fire it later
    expect(b.aborted).to.equal(false);
    await aborted(b);
  });
});
