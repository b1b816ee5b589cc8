/**
 * Compiled scripts against a real Redis: golden Lua of recorded pipelines that then run, one script
 * per shape (SCRIPT EXISTS), no user text in the Lua. test/unit/golden.test.ts checks the same
 * path (recorder -> AST -> Lua) without Redis.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { RedisClusterType } from 'redis';
import { Type } from 'typebox';
import { defineModel } from '../../src/index.js';
import { onCluster, raw } from '../helpers/redis.js';

const Player = defineModel('Player', {
  name: Type.String({ maxLength: 20 }),
  score: Type.Integer({ minimum: 0, default: 0 }),
  tags: Type.Array(Type.String(), { default: [] }),
  inventory: Type.Array(Type.Object({ sku: Type.String(), expired: Type.Boolean() }), { default: [] }),
});

/** The program part of a script: everything after the linked library units. */
const body = (lua: string): string => lua.slice(lua.indexOf('local P = read_params'));

/**
 * The golden text of a single-record program: on a cluster, its shard layout check (lua/lib/shard.lua)
 * runs first (after the `header` lines) and takes the last KEYS and ARGV slots.
 */
function golden(lines: string[], keys: number, params: number, header = 3): string {
  if (!onCluster) return lines.join('\n');
  const [shape, ...rest] = lines;
  return [shape.replace(/"\)$/, 's")'), ...rest.slice(0, header), `shard_guard(KEYS[${keys + 1}], P[${params + 1}])`, ...rest.slice(header)].join('\n');
}

describe('compiler', () => {
  it('compiles a pipeline to golden Lua, values in ARGV only, and the script runs', async () => {
    const u = await Player.create({ name: 'ann', tags: ['a'] });
    const program = u.explain((p) => {
      p.score.incr(10);
      p.name.append(' (Pro)');
      p.tags.append('new', 'newer');
    });
    // straight-line code (src/compile/straight.ts): the ops on locals, one HMGET, one HSET
    expect(body(program.lua)).to.equal(golden([
      'local P = read_params(ARGV, "ssssl")',
      'local h1 = redis.call(\'HMGET\', KEYS[1], "#v", "score", "name", "tags", "tags@")',
      'if not h1[1] then fail(\'NOT_FOUND\', \'record \' .. tostring(P[1]) .. \' not found\') end',
      'if not h1[2] then fail(\'OPERATION\', "score" .. \' holds no value\', "score") end',
      'local r1 = (h1[2] * 1) + (P[3] * 1)',
      'if r1 ~= r1 or r1 == math.huge or r1 == -math.huge or r1 ~= math.floor(r1) or r1 > 9007199254740991 or r1 < -9007199254740991 or r1 < 0 then check_num({int=true,min=0}, "score", r1) end',
      'r1 = fmt_num(r1)',
      'if not h1[3] then fail(\'OPERATION\', "name" .. \' holds no value\', "name") end',
      'if #h1[3] + #P[4] > 67108864 then check_size({maxLen=20}, "name", #h1[3] + #P[4]) end',
      'local r2 = h1[3] .. P[4]',
      'if #r2 > 20 then check_len({maxLen=20}, "name", r2) end',
      'local r3, r3_b, r3_n = 0, 0, P[5]',
      'if h1[4] then r3_b = tonumber(h1[5] or \'0\'); r3 = tonumber(h1[4]) end',
      'r3 = r3 + #r3_n',
      'local v1 = string.format(\'%d\', h1[1] + 1)',
      'local d1 = false',
      'local Q1 = { \'p\', "score", r1, "name", r2 }',
      'for j = 1, #r3_n do Q1[#Q1 + 1] = "tags[" .. string.format(\'%d\', r3_b + r3 - #r3_n + j - 1) .. \']\'; Q1[#Q1 + 1] = r3_n[j] end',
      'Q1[#Q1 + 1] = "tags"; Q1[#Q1 + 1] = string.format(\'%d\', r3)',
      'if r3_b == 0 and h1[5] then Q1[#Q1 + 1] = "tags@"; Q1[#Q1 + 1] = false; d1 = true end',
      'Q1[#Q1 + 1] = "#v"; Q1[#Q1 + 1] = v1',
      'if d1 then st_flush(KEYS[1], Q1) else',
      '  for j = 2, #Q1, 4000 do redis.call(\'HSET\', KEYS[1], unpack(Q1, j, math.min(j + 3999, #Q1))) end',
      'end',
      // a current copy: the results alone (the client derives the patch); a stale one: the whole hash
      'if P[2] == h1[1] then return { 3, r1, r2, r3 } end',
      'local all = redis.call(\'HGETALL\', KEYS[1])',
      'table.insert(all, 1, \'f\')',
      'return { { r1, r2, r3 }, all }',
      '',
    ], 1, 5, 0));
    // only the keys it touches: no index changes, so the record's key alone
    expect(program.keys.slice(0, 1)).to.deep.equal([u.key]);
    expect(program.keys).to.have.length(onCluster ? 2 : 1);
    expect(program.argv.map(String).slice(0, 7)).to.deep.equal([u.id, '1', '10', ' (Pro)', '2', 'new', 'newer']);
    expect(program.lua).not.to.include('(Pro)');
    await u.pipeline((p) => {
      p.score.incr(10);
      p.name.append(' (Pro)');
      p.tags.append('new', 'newer');
    });
    expect((await Player.get(u.id)).toJSON()).to.deep.equal({ name: 'ann (Pro)', score: 10, tags: ['a', 'new', 'newer'], inventory: [] });
  });

  it('compiles a conditional loop to golden Lua, and it runs', async () => {
    const u = await Player.create({ name: 'bo', inventory: [{ sku: 'a', expired: true }, { sku: 'b', expired: false }] });
    const program = u.explain((p) => {
      for (const item of p.inventory) item.expired.ifTrue(() => p.inventory.remove(item));
      p.score.gt(5).ifTrue(() => p.tags.clear()).else(() => p.tags.append('low'));
    });
    expect(body(program.lua)).to.equal(golden([
      'local P = read_params(ARGV, "ssssl")',
      'local C = {{}}',
      'local S = { st_indexed(st_new(KEYS[1]), P[1], {}, {}, {KEYS[2], KEYS[3]}) }',
      'local R = {}',
      'st_prefetch(S[1], {"#v", "inventory", "inventory@", "score", "tags", "tags@"}, {})',
      'rec_require(S[1])',
      'for _, I1 in ipairs(arr_snapshot(S[1], "inventory")) do',
      '  local O1 = cjson.decode(I1)',
      '  if (jget(O1, "expired") == (P[3] == "true")) then',
      '    R[1] = arr_remove(S[1], "inventory", "inventory", C[1], "o", I1) or false',
      '  end',
      'end',
      'if c_gt(rd_num(S[1], "score"), tonumber(P[4])) then',
      '  R[2] = arr_clear(S[1], "tags", "tags", C[1]) or false',
      'else',
      '  R[3] = arr_append(S[1], "tags", "tags", C[1], P[5]) or false',
      'end',
      'st_check_all(S)',
      'st_commit(S[1])',
      'return { R, st_reply(S[1], P[2]) }',
      '',
    ], 3, 5));
    await u.pipeline((p) => {
      for (const item of p.inventory) item.expired.ifTrue(() => p.inventory.remove(item));
      p.score.gt(5).ifTrue(() => p.tags.clear()).else(() => p.tags.append('low'));
    });
    expect((await Player.get(u.id)).toJSON()).to.deep.include({ inventory: [{ sku: 'b', expired: false }], tags: ['low'] });
  });

  it('same program shape, different values => same SHA1 (array sizes and literals included)', async () => {
    const a = await Player.create({ name: 'a', tags: ['x'] });
    const b = await Player.create({ name: 'b', tags: Array.from({ length: 3000 }, (_, i) => `t${i}`) });
    const program = (n: number, s: string, items: string[]) => (p: any) => {
      p.score.incr(n);
      p.name.append(s);
      p.tags.append(...items);
      p.score.gte(n * 2).ifTrue(() => p.tags.pop());
    };
    const one = a.explain(program(1, 'x', ['a']));
    const two = b.explain(program(99, 'another value', ['b', 'c', 'd']));
    expect(two.lua).to.equal(one.lua);
    const before = await scriptExists(a.key, sha1(one.lua));
    expect(before).to.deep.equal([0]);
    await a.pipeline(program(1, 'x', ['a']));
    await b.pipeline(program(99, 'another value', ['b', 'c', 'd']));
    expect(await scriptExists(a.key, sha1(one.lua))).to.deep.equal([1]);
    expect((await Player.get(b.id)).tags.length).to.equal(3003);
  });

  it('never puts user text into the script', () => {
    const evil = '" FLUSHALL() --';
    const { lua, argv } = Player.explain('x', (p) => p.name.set(evil));
    expect(lua).not.to.include('FLUSHALL');
    expect(argv.map(String)).to.include(evil);
  });
});

function sha1(s: string): string {
  return createHash('sha1').update(s).digest('hex');
}

/** SCRIPT EXISTS on the node that serves `key` (each node of a cluster has its own script cache). */
async function scriptExists(key: string, sha: string): Promise<number[]> {
  const node = onCluster ? await (raw as unknown as RedisClusterType).getNodeClientForKey(key) : raw;
  return (await node.sendCommand(['SCRIPT', 'EXISTS', sha])) as number[];
}
