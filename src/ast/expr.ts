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

/**
 * A schema as the server checks a JSON value against it (lua/lib/nest.lua nv_check): its kind
 * (integer, number, date, string, bytes, enum, boolean, any JSON, array, record, object), its
 * constraints, the schema of its items (arrays) or values (records), and an object's fields, the
 * names it requires, and whether it may be null.
 */
export interface SchemaCheck {
  readonly t: 'i' | 'n' | 'd' | 's' | 'y' | 'e' | 'b' | 'j' | 'a' | 'r' | 'o';
  readonly c: Constraints;
  readonly items?: SchemaCheck;
  readonly fields?: Readonly<Record<string, SchemaCheck>>;
  readonly required?: readonly string[];
  readonly nullable?: boolean;
}

export interface ParamNode { readonly kind: 'Param'; readonly value: Raw | null; readonly as: LuaType }
export interface ParamListNode { readonly kind: 'ParamList'; readonly values: readonly Raw[] }
/** A stored scalar of record `rec`, decoded (`as`); nil when absent. */
export interface FieldNode { readonly kind: 'Field'; readonly rec: number; readonly field: string; readonly as: LuaType }
/** The current item of loop `loop`, or a field inside it (`path`, for object items). */
/** `json`: the loop runs over a nested collection, whose items are JSON text (a string item is decoded). */
export interface ItemNode { readonly kind: 'Item'; readonly loop: number; readonly path: readonly string[]; readonly as: LuaType; readonly key?: boolean; readonly json?: boolean }
export interface ArrayLengthNode { readonly kind: 'ArrayLength'; readonly rec: number; readonly field: string }
/** An item of a flat array of scalars (items that are JSON are read by NestedNode). */
export interface ArrayAtNode { readonly kind: 'ArrayAt'; readonly rec: number; readonly field: string; readonly index: Expr; readonly as: LuaType }
export interface ArrayContainsNode { readonly kind: 'ArrayContains'; readonly rec: number; readonly field: string; readonly item: Expr; readonly eq: 'n' | 's' | 'o' }
/** A value of a flat record of scalars (values that are JSON are read by NestedNode). */
export interface DictGetNode { readonly kind: 'DictGet'; readonly rec: number; readonly field: string; readonly key: Expr; readonly as: LuaType }
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
/**
 * One step into an element of a collection whose items are themselves collections (stored as JSON
 * text per element of the outer one): an array index (`i`, negative counts from the end), a record
 * key (`k`, plain text), or a field of an object item (`f`, a schema name).
 */
export type StepNode = { readonly by: 'i' | 'k'; readonly at: Expr } | { readonly by: 'f'; readonly name: string };
/**
 * Where a nested value lives: the outer collection's hash field `field` (an array or a record,
 * `top`), then `steps` through the JSON of its element; `path` names it in errors (`groups.admins`).
 */
export interface NestedPlace {
  readonly rec: number;
  readonly field: string;
  readonly top: 'array' | 'dict';
  readonly steps: readonly StepNode[];
  readonly path: string;
}
/**
 * A read of a nested value (lua/lib/nest.lua): the value itself (`as`; nil when a key on the way
 * is absent), the length of an inner array or record, or whether an inner array holds `item`
 * (an element's JSON text; `eq` as in FieldOpNode).
 */
export interface NestedNode extends NestedPlace {
  readonly kind: 'Nested';
  readonly read: 'value' | 'length' | 'contains';
  readonly as: LuaType;
  readonly item?: Expr;
  readonly eq?: 'n' | 's' | 'o';
}
export interface AndNode { readonly kind: 'And'; readonly items: readonly Expr[] }
export interface OrNode { readonly kind: 'Or'; readonly items: readonly Expr[] }
export interface NotNode { readonly kind: 'Not'; readonly item: Expr }

export type Expr =
  | ParamNode | ParamListNode | FieldNode | ItemNode | ArrayLengthNode | ArrayAtNode | ArrayContainsNode
  | DictGetNode | NestedNode | ArithNode | CompareNode | InNode | StartsWithNode | TextMatchNode | AndNode | OrNode | NotNode;
