/**
 * Expressions of the program AST: values computed on the server (stored fields, loop items,
 * arithmetic, comparisons, text matches). User values live only in `Param` and `ParamList` nodes
 * and travel in ARGV.
 */
import type { Raw } from '../schema/codec.js';

/** How Lua reads a value: as a number, a string, a boolean, or raw stored text. */
export type LuaType = 'num' | 'str' | 'bool' | 'raw';

/** Server-side checks of one field, derived from its schema (see lua/lib/check.lua). */
export interface Constraints {
  readonly int?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly xmin?: number;
  readonly xmax?: number;
  readonly mult?: number;
  readonly minLen?: number;
  readonly maxLen?: number;
  readonly bytes?: boolean;
  readonly enum?: readonly string[];
  readonly minItems?: number;
  readonly maxItems?: number;
  /** Strings and bytes: the most bytes a computed result may hold (the model's maxValueBytes). */
  readonly maxBytes?: number;
}

export interface ParamNode { readonly kind: 'Param'; readonly value: Raw | null; readonly as: LuaType }
export interface ParamListNode { readonly kind: 'ParamList'; readonly values: readonly Raw[] }
/** A stored scalar of record `rec`, decoded (`as`); nil when absent. */
export interface FieldNode { readonly kind: 'Field'; readonly rec: number; readonly field: string; readonly as: LuaType }
/** The current item of loop `loop`, or a field inside it (`path`, for object items). */
export interface ItemNode { readonly kind: 'Item'; readonly loop: number; readonly path: readonly string[]; readonly as: LuaType; readonly key?: boolean }
export interface ArrayLengthNode { readonly kind: 'ArrayLength'; readonly rec: number; readonly field: string }
export interface ArrayAtNode { readonly kind: 'ArrayAt'; readonly rec: number; readonly field: string; readonly index: Expr; readonly as: LuaType; readonly sub: readonly string[] }
export interface ArrayContainsNode { readonly kind: 'ArrayContains'; readonly rec: number; readonly field: string; readonly item: Expr; readonly eq: 'n' | 's' | 'o' }
export interface DictGetNode { readonly kind: 'DictGet'; readonly rec: number; readonly field: string; readonly key: Expr; readonly as: LuaType; readonly sub: readonly string[] }
export type ArithOp = 'add' | 'sub' | 'mul' | 'div' | 'floordiv' | 'mod' | 'pow' | 'min' | 'max' | 'concat';
export interface ArithNode { readonly kind: 'Arith'; readonly op: ArithOp; readonly left: Expr; readonly right: Expr }
export type CompareOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte';
export interface CompareNode { readonly kind: 'Compare'; readonly op: CompareOp; readonly left: Expr; readonly right: Expr }
export interface InNode { readonly kind: 'In'; readonly value: Expr; readonly list: ParamListNode; readonly as: LuaType }
export interface StartsWithNode { readonly kind: 'StartsWith'; readonly value: Expr; readonly prefix: Expr }
/**
 * A text condition on a string value (lua/lib/words.lua): `all` of `words`, `any` of them, or a
 * word starting with `prefix` (the only item of `words`). Words are tokenized on the client.
 */
export interface TextMatchNode { readonly kind: 'TextMatch'; readonly value: Expr; readonly mode: 'all' | 'any' | 'prefix'; readonly words: ParamListNode }
export interface AndNode { readonly kind: 'And'; readonly items: readonly Expr[] }
export interface OrNode { readonly kind: 'Or'; readonly items: readonly Expr[] }
export interface NotNode { readonly kind: 'Not'; readonly item: Expr }

export type Expr =
  | ParamNode | ParamListNode | FieldNode | ItemNode | ArrayLengthNode | ArrayAtNode | ArrayContainsNode
  | DictGetNode | ArithNode | CompareNode | InNode | StartsWithNode | TextMatchNode | AndNode | OrNode | NotNode;
