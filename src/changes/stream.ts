/**
 * Reading one shard's change stream: plain reads from a position (XREAD), or as a consumer of a
 * group (XREADGROUP, XACK, XAUTOCLAIM). Blocking reads go through a dedicated connection to the
 * node serving the stream (a duplicate of the model's client, closed with the reader), so they
 * never hold up the commands of the shared connection.
 */
import type { Connection } from '../client/connection.js';
import type { ClusterClient, NodeClient } from '../client/executor.js';

/** A raw stream entry: its id and its field/value list. */
export interface Entry {
  readonly id: string;
  readonly fields: readonly string[];
}

/** Entries per read. */
export const BATCH = 100;

/** Sends a non-blocking command about `key` on the shared connection (routed by slot on a cluster). */
export function send(db: Connection, key: string, args: string[]): Promise<unknown> {
  return db.cluster
    ? (db.client as ClusterClient).sendCommand(key, false, args)
    : (db.client as NodeClient).sendCommand(args);
}

/** A connection of its own to the node serving `key`, for blocking reads. */
async function dedicated(db: Connection, key: string): Promise<NodeClient> {
  const base = db.cluster ? await (db.client as ClusterClient).getNodeClientForKey(key) : (db.client as NodeClient);
  const client = base.duplicate() as NodeClient;
  client.on('error', () => {}); // failures surface as rejected reads; an unheard 'error' event would crash the process
  await client.connect();
  return client;
}

/** `a` - `b` as stream ids (`<ms>-<seq>`): negative, zero or positive. */
export function compareIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  return am === bm ? Number(BigInt(as) - BigInt(bs)) : Number(BigInt(am) - BigInt(bm));
}

const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

/** Entries of a reply list (`[[id, [f, v, ...]], ...]`); nil entries (deleted while pending) are left out. */
function entries(list: unknown): Entry[] {
  if (!Array.isArray(list)) return [];
  const out: Entry[] = [];
  for (const item of list as unknown[][]) {
    if (Array.isArray(item) && Array.isArray(item[1])) out.push({ id: text(item[0]), fields: (item[1] as unknown[]).map(text) });
  }
  return out;
}

/** The entries of an XREAD/XREADGROUP reply for one stream: RESP2 `[[key, list]]`, RESP3 a map. */
function streamEntries(reply: unknown): Entry[] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) return entries((reply[0] as unknown[] | undefined)?.[1]);
  const values = reply instanceof Map ? [...reply.values()] : Object.values(reply as object);
  return entries(values[0]);
}

/** The id of the stream's last entry, or `0-0` when it has none. */
async function lastId(db: Connection, key: string): Promise<string> {
  const last = entries(await send(db, key, ['XREVRANGE', key, '+', '-', 'COUNT', '1']));
  return last[0]?.id ?? '0-0';
}

/** What a reader does: the next entries (null when a non-following reader reached its end), and close. */
export interface Reader {
  read(): Promise<Entry[] | null>;
  close(): void;
}

export interface ReaderOptions {
  /** '$' (after the last entry now), '0' (the whole stream), or an entry id to read after. */
  readonly from: string;
  /** Wait for new entries (true), or end once the entries stored at the start are read. */
  readonly follow: boolean;
}

/** Consecutive failed attempts of one blocking read before its error reaches the iterator. */
const ATTEMPTS = 8;

/**
 * Lazily opens the dedicated connection; closing it rejects a read blocked on it. A read that
 * fails otherwise (the connection dropped, a slot moved to another node) is retried on a new
 * connection, opened after a short backoff and a routed command on the shared connection (which
 * refreshes a cluster client's slot map): a read only moves the reader's position when it succeeds,
 * so a retry loses nothing (a group read whose reply was lost leaves its entries pending, to be claimed).
 */
class Blocking {
  private client?: Promise<NodeClient>;
  closed = false;

  constructor(private readonly db: Connection, private readonly key: string) {}

  async send(args: string[]): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed) return null;
      try {
        this.client ??= dedicated(this.db, this.key);
        const client = await this.client;
        if (this.closed) return null;
        return await client.sendCommand(args);
      } catch (err) {
        if (this.closed) return null;
        if (attempt === ATTEMPTS) throw err;
        this.drop();
        await new Promise((done) => setTimeout(done, Math.min(2_000, 50 * 2 ** attempt)));
        await send(this.db, this.key, ['EXISTS', this.key]).catch(() => {});
      }
    }
  }

  private drop(): void {
    void this.client?.then((c) => c.destroy(), () => {});
    this.client = undefined;
  }

  close(): void {
    this.closed = true;
    this.drop();
  }
}

/** Reads a stream from a position, in order (XREAD). */
export function streamReader(db: Connection, key: string, options: ReaderOptions): Reader {
  const blocking = new Blocking(db, key);
  let after: string | undefined;
  let end: string | undefined;
  return {
    async read() {
      if (after === undefined) {
        after = options.from === '$' ? await lastId(db, key) : options.from === '0' ? '0-0' : options.from;
        if (!options.follow) end = await lastId(db, key);
      }
      for (;;) {
        if (end !== undefined && compareIds(after, end) >= 0) return null;
        const args = ['XREAD', 'COUNT', String(BATCH), ...(options.follow ? ['BLOCK', '0'] : []), 'STREAMS', key, after];
        const got = streamEntries(await (options.follow ? blocking.send(args) : send(db, key, args)));
        if (got.length > 0) {
          after = got[got.length - 1].id;
          return end === undefined ? got : got.filter((e) => compareIds(e.id, end!) <= 0);
        }
        if (!options.follow || blocking.closed) return null;
      }
    },
    close: () => blocking.close(),
  };
}

export interface GroupOptions extends ReaderOptions {
  readonly group: string;
  readonly consumer: string;
  /** Entries pending this long on another consumer are claimed by this one (XAUTOCLAIM). */
  readonly claimAfterMs: number;
}

const isBusyGroup = (err: unknown): boolean => err instanceof Error && err.message.startsWith('BUSYGROUP');

/**
 * Reads a stream as a consumer of a group: first what this consumer left pending (it restarted),
 * then entries claimed from consumers idle for `claimAfterMs` and new entries, each delivered to
 * one consumer of the group. The group is created at `from` when it does not exist.
 */
export function groupReader(db: Connection, key: string, options: GroupOptions): Reader {
  const blocking = new Blocking(db, key);
  const { group, consumer } = options;
  let created = false;
  let own: string | null = '0'; // the cursor over this consumer's own pending entries, null once read
  let claimCursor = '0-0';
  const readGroup = async (after: string, block: boolean): Promise<Entry[]> => {
    const args = ['XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(BATCH), ...(block ? ['BLOCK', String(Math.ceil(options.claimAfterMs))] : []), 'STREAMS', key, after];
    return streamEntries(await (block ? blocking.send(args) : send(db, key, args)));
  };
  const claim = async (): Promise<Entry[]> => {
    const reply = (await send(db, key, ['XAUTOCLAIM', key, group, consumer, String(options.claimAfterMs), claimCursor, 'COUNT', String(BATCH)])) as unknown[];
    claimCursor = text(reply[0]);
    return entries(reply[1]);
  };
  return {
    async read() {
      if (!created) {
        await send(db, key, ['XGROUP', 'CREATE', key, group, options.from, 'MKSTREAM']).catch((err: unknown) => {
          if (!isBusyGroup(err)) throw err;
        });
        created = true;
      }
      if (own !== null) {
        const got = await readGroup(own, false);
        if (got.length > 0) {
          own = got[got.length - 1].id;
          return got;
        }
        own = null;
      }
      for (;;) {
        const claimed = await claim();
        if (claimed.length > 0) return claimed;
        const got = await readGroup('>', options.follow);
        if (got.length > 0) return got;
        if ((!options.follow && claimCursor === '0-0') || blocking.closed) return null;
      }
    },
    close: () => blocking.close(),
  };
}
