#!/usr/bin/env node
/**
 * `npx rapyer <command>`: look at rapyer data on a Redis server from any shell.
 *
 *   rapyer models [--url redis://...]           the models on the server, their records and indexes
 *   rapyer show <key> [--json]                  one record decoded with its model's layout
 *   rapyer check --model User [--repair]        compare the indexes with the records (exit 1 if wrong)
 *   rapyer stats                                records, index sizes and bytes per record, per model
 *
 * `--url` defaults to $REDIS_URL, then redis://127.0.0.1:6379. A Redis Cluster node is detected
 * (INFO cluster) and the whole cluster is read from it; `--cluster` skips the detection.
 */
import { parseArgs } from 'node:util';
import { connect, type Connection } from '../client/connection.js';
import type { NodeClient } from '../client/executor.js';
import { RapyerError } from '../errors.js';
import { checkModel, listModels, modelStats, showRecord, SAMPLE } from './inspect.js';

const USAGE = `usage: rapyer <command> [--url redis://host:port] [--cluster]

  models                      list the models stored on the server
  show <key> [--json]         print one record, decoded (fields, arrays, dicts, version, TTL)
  check --model <Name> [--repair]
                              compare the model's indexes with its records; --repair mends them
  stats                       records, index sizes and bytes per record for each model

--url defaults to $REDIS_URL, then redis://127.0.0.1:6379. When --url names a node of a
Redis Cluster, the whole cluster is read (--cluster says so without asking the node).`;

/** A connection to the server at `url`, or to its whole cluster when it is a cluster node. */
async function open(url: string, cluster: boolean): Promise<Connection> {
  if (cluster) return connect({ cluster: { rootNodes: [{ url }] } });
  const db = await connect({ url });
  const info = String(await (db.client as NodeClient).info('cluster'));
  if (!/^cluster_enabled:1\b/m.test(info)) return db;
  await db.close();
  return connect({ cluster: { rootNodes: [{ url }] } });
}

/** JSON for people: dates as ISO text, bytes as base64. */
function pretty(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    const raw = this[key];
    return raw instanceof Uint8Array ? `base64:${Buffer.from(raw).toString('base64')}` : v;
  }, 2);
}

/** Left-aligned columns. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      model: { type: 'string' },
      repair: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const db = await open(values.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', values.cluster);
  try {
    switch (command) {
      case 'models': {
        const models = await listModels(db);
        if (values.json) {
          console.log(pretty(models.map((m) => m.layout)));
          return 0;
        }
        if (models.length === 0) {
          console.log('no rapyer models on this server');
          return 0;
        }
        const rows = [['model', 'records', 'fields', 'indexes', 'unique', 'ttl']];
        for (const { layout, records } of models) {
          const o = layout.options;
          rows.push([
            layout.name, String(records), layout.spec.order.join(', '),
            (o.indexes ?? []).join(', ') || '-', (o.unique ?? []).join(', ') || '-', o.ttl ? `${o.ttl} s` : '-',
          ]);
        }
        console.log(table(rows));
        return 0;
      }
      case 'show': {
        if (args.length !== 1) throw new RapyerError('show takes one record key, e.g. rapyer show User:01J9...');
        const rec = await showRecord(db, args[0]);
        if (values.json) {
          console.log(pretty(rec));
          return 0;
        }
        console.log(table([
          ['key', rec.key], ['model', rec.model], ['id', rec.id], ['version', rec.version],
          ['ttl', rec.ttl === null ? 'none' : `${rec.ttl} s`], ['hash fields', String(rec.hashFields)],
        ]));
        console.log(pretty(rec.data));
        return 0;
      }
      case 'check': {
        if (!values.model) throw new RapyerError('check needs --model <Name>');
        const report = await checkModel(db, values.model, values.repair);
        const wrong = report.missing + report.stale;
        console.log(`${values.model}: ${report.records} records, ${report.missing} missing index entries, ${report.stale} stale index entries`
          + (values.repair ? (wrong ? ', repaired' : '') : wrong ? ' (run again with --repair to mend them)' : ''));
        return wrong > 0 && !values.repair ? 1 : 0;
      }
      case 'stats': {
        const stats = [];
        for (const found of await listModels(db)) stats.push(await modelStats(db, found));
        if (values.json) {
          console.log(pretty(stats));
          return 0;
        }
        const rows = [['model / index', 'records or entries', 'bytes']];
        for (const s of stats) {
          rows.push([s.model, String(s.records), s.bytesPerRecord === null ? '-' : `${s.bytesPerRecord} per record`]);
          for (const ix of s.indexes) rows.push([`  ${ix.key}`, String(ix.entries), String(ix.bytes)]);
        }
        console.log(table(rows));
        console.log(`(bytes per record: Redis MEMORY USAGE, averaged over up to ${SAMPLE} records)`);
        return 0;
      }
      default:
        console.error(`unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(err instanceof RapyerError || (err instanceof Error && err.name === 'TypeError') ? `rapyer: ${err.message}` : err);
    process.exitCode = 1;
  },
);
