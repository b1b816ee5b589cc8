/**
 * The whole-record reads (get, exists, ttl) as prepared programs: per model, key space, shard and
 * layout, one program is compiled and every later read of that shard is bound from the record's
 * key and id alone (recordBinder in src/compile/compiler.ts), so a hot read builds no AST and walks
 * no shape.
 */
import { call, make, stateArg, type ProgramNode, type Stmt } from '../ast/nodes.js';
import { recordBinder, type Compiled, type RecordBinder } from '../compile/compiler.js';
import { checkText } from '../schema/validate.js';
import type { ModelCore } from './contract.js';
import type { KeySpace } from './keys.js';

/** The bodies that can be prepared: built once, recognised by identity. */
export const KEY_READS = {
  read: call('rec_read', stateArg(1)),
  exists: call('rec_exists', stateArg(1)),
  ttl: call('rec_ttl', stateArg(1)),
} as const;

const NAMES = new Map<Stmt, string>(Object.entries(KEY_READS).map(([name, body]) => [body, name]));

interface Prepared {
  /** The program of the first record read (what diagnostics describe: the same kind for every record). */
  readonly program: ProgramNode;
  readonly bind: RecordBinder;
}

type Reader = Pick<ModelCore<any>, 'ref' | 'binary'>; // eslint-disable-line @typescript-eslint/no-explicit-any

const prepared = new WeakMap<Reader, Map<string, Prepared>>();

/** A one-record read program and its script: bound from a prepared program where the body allows. */
export function readProgram(model: Reader, id: string, body: Stmt, keys: KeySpace, layout: string): { program: ProgramNode; script?: Compiled } {
  const built = (): ProgramNode => make('Program', { mode: 'read', binary: model.binary, records: [model.ref(id, '', keys, layout)], body: [body] });
  const name = NAMES.get(body);
  if (name === undefined) return { program: built() };
  checkText(id, 'id');
  let byModel = prepared.get(model);
  if (!byModel) prepared.set(model, (byModel = new Map()));
  const shard = keys.shardOf(id);
  const at = `${name}|${keys.shards}|${shard}|${layout}`;
  const known = byModel.get(at);
  if (known) return { program: known.program, script: known.bind(`${keys.recordPrefix(shard)}${id}`, id) };
  const program = built();
  const bind = recordBinder(program);
  if (bind) byModel.set(at, { program, bind });
  return { program };
}
