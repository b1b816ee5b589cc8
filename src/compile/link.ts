/**
 * Links a compiled program body with the lua/lib units it calls: each unit once, dependencies
 * first. Which units a body needs is read off the function names it calls.
 */
import { LUA_UNITS } from '../lua/generated.js';

const unitOf = new Map<string, string>();
for (const [name, unit] of Object.entries(LUA_UNITS)) {
  for (const fn of unit.defines) unitOf.set(fn, name);
}

const CALL = /\b([A-Za-z_][A-Za-z0-9_]*)\(/g;

/** The lib code a body needs, in dependency order. */
export function linkUnits(body: string): string {
  const ordered: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of LUA_UNITS[name].includes) visit(dep);
    ordered.push(name);
  };
  for (const match of body.matchAll(CALL)) {
    const unit = unitOf.get(match[1]);
    if (unit) visit(unit);
  }
  return ordered.map((name) => LUA_UNITS[name].code).join('\n\n');
}

/** A Lua string literal for any text: printable ASCII kept, everything else as decimal escapes. */
export function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte >= 0x20 && byte < 0x7f && c !== '"' && c !== '\\' ? c : `\\${byte}`;
  }
  return `${out}"`;
}
