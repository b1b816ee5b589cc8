import { createClient } from 'redis';
import { linkFunctions } from '../src/compile/link.js';
import { startRedis } from '../test/helpers/embedded-redis.js';
const server = await startRedis();
const c = createClient({ url: server.url }); await c.connect();
const text = JSON.stringify(Array.from({ length: 1000 }, (_, i) => `item-${i}`));
const bodies = ['nj_array(x, "p")', 'nj_join_array(nj_array(x, "p"))', 'na_append(x, "p", {t="a",i={t="s"}}, {\'"x"\'})'];
for (let round = 0; round < 3; round++) for (const body of bodies) {
  const lua = `${linkFunctions(body)}\nlocal x = ARGV[1]\nfor i = 1, 200 do local r = ${body} end\nreturn 1`;
  const t = performance.now();
  await c.eval(lua, { keys: [], arguments: [text] });
  if (round > 0) console.log(body.slice(0, 70), ((performance.now() - t) / 200 * 1000).toFixed(1), 'us per call');
}
await c.quit(); process.exit(0);
