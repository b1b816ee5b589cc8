/**
 * The AST's factories refuse malformed nodes at compile time (checked by `npm run typecheck`):
 * a fixed Lua step with the wrong arguments, a node kind with the wrong fields.
 */
import { call, idsArg, keyArg, make, param, paramList, stateArg, word } from '../../src/ast/nodes.js';

export const fine = [
  call('rec_write', stateArg(1), idsArg(1), param('id', 'str'), paramList([]), word('create'), param('0')),
  call('rec_write', stateArg(1), idsArg(1), param('id', 'str'), paramList([]), word('save'), param('0'), param('3', 'str')),
  call('lock_release', keyArg('k'), param('token', 'str')),
  make('Compare', { op: 'gt', left: param('1', 'num'), right: param('2', 'num') }),
];

export const refused = [
  // @ts-expect-error a step's arguments are typed: rec_write needs the id set, id, fields, mode and ttl
  call('rec_write', stateArg(1)),
  // @ts-expect-error a key where a value belongs
  call('lock_release', keyArg('k'), keyArg('token')),
  // @ts-expect-error no such Lua step
  call('rec_explode', stateArg(1)),
  // @ts-expect-error a Compare has no `value`
  make('Compare', { op: 'gt', value: param('1') }),
  // @ts-expect-error no such comparison
  make('Compare', { op: 'near', left: param('1', 'num'), right: param('2', 'num') }),
];
