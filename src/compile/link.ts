/**
 * Links a compiled program body with the lua/lib functions it calls, transitively: each once,
 * callees before callers (Lua resolves a local function's upvalues where it is defined).
 */
import { LUA_FUNCTIONS } from '../lua/generated.js';

const CALL = /\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g;

/** The library code a body needs, in dependency order. */
export function linkFunctions(body: string): string {
  const ordered: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const callee of LUA_FUNCTIONS[name].calls) visit(callee);
    ordered.push(LUA_FUNCTIONS[name].code);
  };
  for (const match of body.matchAll(CALL)) {
    if (LUA_FUNCTIONS[match[1]]) visit(match[1]);
  }
  return ordered.join('\n\n');
}

/**
 * A Lua string literal for any text: printable ASCII kept, every other byte as a three-digit decimal
 * escape (Lua reads up to three digits, so `\\10` before a `1` would read as `\\101`).
 */
export function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte >= 0x20 && byte < 0x7f && c !== '"' && c !== '\\' ? c : `\\${String(byte).padStart(3, '0')}`;
  }
  return `${out}"`;
}
