/**
 * CloudWatch Logs filter patterns: a small parser and evaluator (PURE).
 *
 *   unstructured   ERROR  "Exception occurred"  ?ERROR ?WARN  ERROR -Exiting  %regex%
 *                  terms AND together, `?` terms OR together (at least one), `-` terms must be absent
 *   JSON           { $.level = "error" }  { $.latency > 100 && ($.code = 5* || $.ok IS FALSE) }
 *                  { $.x NOT EXISTS }  { $.x IS NULL }  { $.a.b[0] != "x" }
 *   space-delimited [ip, user, ..., status = 4*, bytes > 1000]  [w1 = ERROR || w1 = WARN, ...]
 *
 * Matching is case-sensitive, as in CloudWatch Logs. `*` in a compared string is a wildcard;
 * `%…%` is a regular expression (refused when it could backtrack catastrophically).
 */
import safeRegex from 'safe-regex2';

export class FilterPatternError extends Error {}

type Op = '=' | '!=' | '<' | '>' | '<=' | '>=';
type Value = { kind: 'string'; text: string; wildcard?: RegExp } | { kind: 'number'; n: number; text: string } | { kind: 'regex'; re: RegExp };

interface Term {
  mode: 'and' | 'or' | 'not';
  text?: string;
  re?: RegExp;
}

type JsonExpr =
  | { kind: 'and' | 'or'; left: JsonExpr; right: JsonExpr }
  | { kind: 'cmp'; path: PathStep[]; op: Op; value: Value }
  | { kind: 'is'; path: PathStep[]; what: true | false | null }
  | { kind: 'exists'; path: PathStep[]; negate: boolean };
type PathStep = string | number;

type FieldCond = { kind: 'and' | 'or'; left: FieldCond; right: FieldCond } | { kind: 'cmp'; field: string; op: Op; value: Value };
interface SpaceField {
  ellipsis: boolean;
  name: string;
  cond?: FieldCond;
}

export interface CompiledPattern {
  readonly kind: 'all' | 'terms' | 'json' | 'space';
  /** Substrings every matching message contains (a cheap pre-filter the store can apply). */
  readonly required: readonly string[];
  matches(message: string): boolean;
}

const MAX_REGEX = 256;

function regexOf(source: string): RegExp {
  if (source.length === 0 || source.length > MAX_REGEX) throw new FilterPatternError('A regular expression in a filter pattern must be 1 to 256 characters long.');
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch {
    throw new FilterPatternError(`Invalid regular expression %${source}%.`);
  }
  if (!safeRegex(re)) throw new FilterPatternError(`The regular expression %${source}% is too complex.`);
  return re;
}

function wildcardOf(text: string): RegExp | undefined {
  if (!text.includes('*')) return undefined;
  const body = text
    .split('*')
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** Tokens of the JSON and space-delimited languages. */
type Tok = { t: 'sym'; v: string } | { t: 'str'; v: string } | { t: 'word'; v: string } | { t: 'regex'; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['&&', '||', '!=', '<=', '>='].includes(two)) {
      out.push({ t: 'sym', v: two });
      i += 2;
      continue;
    }
    if (src.startsWith('...', i)) {
      out.push({ t: 'sym', v: '...' });
      i += 3;
      continue;
    }
    if ('{}[](),=<>'.includes(ch)) {
      out.push({ t: 'sym', v: ch });
      i++;
      continue;
    }
    if (ch === '"') {
      const [text, end] = quoted(src, i);
      out.push({ t: 'str', v: text });
      i = end;
      continue;
    }
    if (ch === '%') {
      const end = src.indexOf('%', i + 1);
      if (end < 0) throw new FilterPatternError('Unterminated regular expression (%…%) in the filter pattern.');
      out.push({ t: 'regex', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < src.length && !/\s/.test(src[j]!) && !'{}[](),=<>!&|"'.includes(src[j]!)) j++;
    if (j === i) throw new FilterPatternError(`Unexpected character '${ch}' in the filter pattern.`);
    out.push({ t: 'word', v: src.slice(i, j) });
    i = j;
  }
  return out;
}

/** A double-quoted string starting at `start`: its text (\" and \\ unescaped) and the index after it. */
function quoted(src: string, start: number): [string, number] {
  let text = '';
  for (let i = start + 1; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\' && i + 1 < src.length) {
      text += src[++i];
      continue;
    }
    if (c === '"') return [text, i + 1];
    text += c;
  }
  throw new FilterPatternError('Unterminated quoted string in the filter pattern.');
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}
  peek(): Tok | undefined {
    return this.toks[this.i];
  }
  next(): Tok {
    const t = this.toks[this.i++];
    if (!t) throw new FilterPatternError('The filter pattern ends too early.');
    return t;
  }
  isSym(v: string): boolean {
    const t = this.peek();
    return t?.t === 'sym' && t.v === v;
  }
  expect(v: string): void {
    const t = this.next();
    if (t.t !== 'sym' || t.v !== v) throw new FilterPatternError(`Expected '${v}' in the filter pattern, found '${t.v}'.`);
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  op(): Op | undefined {
    const t = this.peek();
    if (t?.t === 'sym' && ['=', '!=', '<', '>', '<=', '>='].includes(t.v)) {
      this.i++;
      return t.v as Op;
    }
    return undefined;
  }
  value(op: Op): Value {
    const t = this.next();
    if (t.t === 'regex') {
      if (op !== '=' && op !== '!=') throw new FilterPatternError('A regular expression can only be compared with = or !=.');
      return { kind: 'regex', re: regexOf(t.v) };
    }
    if (t.t === 'sym') throw new FilterPatternError(`Expected a value in the filter pattern, found '${t.v}'.`);
    if (t.t === 'word' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t.v)) return { kind: 'number', n: Number(t.v), text: t.v };
    if (op !== '=' && op !== '!=') throw new FilterPatternError(`The operator ${op} needs a number, not '${t.v}'.`);
    return { kind: 'string', text: t.v, wildcard: wildcardOf(t.v) };
  }
}

// ---------- JSON patterns ----------

function parseJson(src: string): JsonExpr {
  const p = new Parser(tokenize(src));
  p.expect('{');
  const expr = jsonOr(p);
  p.expect('}');
  if (!p.done()) throw new FilterPatternError('Unexpected text after the closing } of the filter pattern.');
  return expr;
}

function jsonOr(p: Parser): JsonExpr {
  let left = jsonAnd(p);
  while (p.isSym('||')) {
    p.next();
    left = { kind: 'or', left, right: jsonAnd(p) };
  }
  return left;
}

function jsonAnd(p: Parser): JsonExpr {
  let left = jsonUnary(p);
  while (p.isSym('&&')) {
    p.next();
    left = { kind: 'and', left, right: jsonUnary(p) };
  }
  return left;
}

function jsonUnary(p: Parser): JsonExpr {
  if (p.isSym('(')) {
    p.next();
    const e = jsonOr(p);
    p.expect(')');
    return e;
  }
  const sel = p.next();
  if (sel.t !== 'word' || !sel.v.startsWith('$')) throw new FilterPatternError(`Expected a selector such as $.field in the filter pattern, found '${sel.v}'.`);
  const path = selectorPath(sel.v, p);
  const t = p.peek();
  if (t?.t === 'word' && t.v === 'IS') {
    p.next();
    const w = p.next();
    const what = w.v === 'TRUE' ? true : w.v === 'FALSE' ? false : w.v === 'NULL' ? null : undefined;
    if (what === undefined) throw new FilterPatternError(`Expected TRUE, FALSE or NULL after IS, found '${w.v}'.`);
    return { kind: 'is', path, what };
  }
  if (t?.t === 'word' && (t.v === 'NOT' || t.v === 'EXISTS')) {
    p.next();
    const negate = t.v === 'NOT';
    if (negate) {
      const e = p.next();
      if (e.v !== 'EXISTS') throw new FilterPatternError(`Expected EXISTS after NOT, found '${e.v}'.`);
    }
    return { kind: 'exists', path, negate };
  }
  const op = p.op();
  if (!op) throw new FilterPatternError(`Expected a comparison after ${sel.v}.`);
  return { kind: 'cmp', path, op, value: p.value(op) };
}

/** `$.a.b` plus any `[n]` the tokenizer split off. */
function selectorPath(word: string, p: Parser): PathStep[] {
  const steps: PathStep[] = [];
  const addDotted = (s: string) => {
    for (const part of s.split('.')) {
      if (part === '') continue;
      steps.push(part);
    }
  };
  if (word !== '$' && !word.startsWith('$.')) throw new FilterPatternError(`Invalid selector '${word}'.`);
  addDotted(word.slice(1));
  while (p.isSym('[')) {
    p.next();
    const n = p.next();
    if (n.t !== 'word' || !/^\d+$/.test(n.v)) throw new FilterPatternError('Expected an array index in [].');
    steps.push(Number(n.v));
    p.expect(']');
    const after = p.peek();
    if (after?.t === 'word' && after.v.startsWith('.')) addDotted(p.next().v);
  }
  return steps;
}

const MISSING = Symbol('missing');

function at(doc: unknown, path: readonly PathStep[]): unknown {
  let cur: unknown = doc;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(cur) || step >= cur.length) return MISSING;
      cur = cur[step];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, step)) return MISSING;
      cur = (cur as Record<string, unknown>)[step];
    }
  }
  return cur;
}

function compare(actual: unknown, op: Op, v: Value): boolean {
  if (actual === MISSING) return false;
  if (v.kind === 'regex') {
    if (typeof actual !== 'string' && typeof actual !== 'number') return false;
    const hit = v.re.test(String(actual));
    return op === '=' ? hit : !hit;
  }
  if (v.kind === 'number') {
    const n = typeof actual === 'number' ? actual : typeof actual === 'string' && actual.trim() !== '' ? Number(actual) : NaN;
    if (Number.isNaN(n)) return op === '=' ? false : op === '!=' ? actual !== null && typeof actual !== 'object' : false;
    switch (op) {
      case '=':
        return n === v.n;
      case '!=':
        return n !== v.n;
      case '<':
        return n < v.n;
      case '>':
        return n > v.n;
      case '<=':
        return n <= v.n;
      case '>=':
        return n >= v.n;
    }
  }
  if (actual === null || typeof actual === 'object') return false;
  const s = String(actual);
  const hit = v.wildcard ? v.wildcard.test(s) : s === v.text;
  return op === '=' ? hit : !hit;
}

function evalJson(e: JsonExpr, doc: unknown): boolean {
  switch (e.kind) {
    case 'and':
      return evalJson(e.left, doc) && evalJson(e.right, doc);
    case 'or':
      return evalJson(e.left, doc) || evalJson(e.right, doc);
    case 'cmp':
      return compare(at(doc, e.path), e.op, e.value);
    case 'is':
      return at(doc, e.path) === e.what;
    case 'exists':
      return (at(doc, e.path) === MISSING) === e.negate;
  }
}

// ---------- space-delimited patterns ----------

function parseSpace(src: string): SpaceField[] {
  const p = new Parser(tokenize(src));
  p.expect('[');
  const fields: SpaceField[] = [];
  if (p.isSym(']')) throw new FilterPatternError('A space-delimited filter pattern needs at least one field.');
  for (;;) {
    if (p.isSym('...')) {
      p.next();
      fields.push({ ellipsis: true, name: '' });
    } else {
      const t = p.next();
      if (t.t !== 'word') throw new FilterPatternError(`Expected a field name in [], found '${t.v}'.`);
      const field: SpaceField = { ellipsis: false, name: t.v };
      if (!p.isSym(',') && !p.isSym(']')) field.cond = fieldOr(p, t.v);
      fields.push(field);
    }
    if (p.isSym(',')) {
      p.next();
      continue;
    }
    p.expect(']');
    break;
  }
  if (!p.done()) throw new FilterPatternError('Unexpected text after the closing ] of the filter pattern.');
  return fields;
}

function fieldOr(p: Parser, name: string): FieldCond {
  let left = fieldAnd(p, name);
  while (p.isSym('||')) {
    p.next();
    left = { kind: 'or', left, right: fieldAnd(p, undefined) };
  }
  return left;
}

function fieldAnd(p: Parser, name: string | undefined): FieldCond {
  let left = fieldCmp(p, name);
  while (p.isSym('&&')) {
    p.next();
    left = { kind: 'and', left, right: fieldCmp(p, undefined) };
  }
  return left;
}

/** `op value` right after the field's own name, or `name op value` after && / ||. */
function fieldCmp(p: Parser, name: string | undefined): FieldCond {
  let field = name;
  if (field === undefined) {
    const t = p.next();
    if (t.t !== 'word') throw new FilterPatternError(`Expected a field name, found '${t.v}'.`);
    field = t.v;
  }
  const op = p.op();
  if (!op) throw new FilterPatternError(`Expected a comparison after ${field}.`);
  return { kind: 'cmp', field, op, value: p.value(op) };
}

/** A log line's fields: whitespace-separated, with "…" and […] each one field. */
export function splitFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    const close = c === '"' ? '"' : c === '[' ? ']' : undefined;
    if (close) {
      const end = line.indexOf(close, i + 1);
      if (end >= 0) {
        out.push(line.slice(i + 1, end));
        i = end + 1;
        continue;
      }
    }
    let j = i;
    while (j < line.length && line[j] !== ' ' && line[j] !== '\t') j++;
    out.push(line.slice(i, j));
    i = j;
  }
  return out;
}

function evalField(c: FieldCond, bound: ReadonlyMap<string, string>): boolean {
  if (c.kind !== 'cmp') return c.kind === 'and' ? evalField(c.left, bound) && evalField(c.right, bound) : evalField(c.left, bound) || evalField(c.right, bound);
  const v = bound.get(c.field);
  return compare(v === undefined ? MISSING : v, c.op, c.value);
}

const MAX_BINDINGS = 10_000;

function matchSpace(fields: readonly SpaceField[], conds: readonly FieldCond[], line: string): boolean {
  const values = splitFields(line);
  let tries = 0;
  const bound = new Map<string, string>();
  const go = (fi: number, vi: number): boolean => {
    if (++tries > MAX_BINDINGS) return false;
    if (fi === fields.length) return vi === values.length && conds.every((c) => evalField(c, bound));
    const f = fields[fi]!;
    if (f.ellipsis) {
      for (let k = vi; k <= values.length; k++) if (go(fi + 1, k)) return true;
      return false;
    }
    if (vi >= values.length) return false;
    const had = bound.get(f.name);
    bound.set(f.name, values[vi]!);
    const ok = go(fi + 1, vi + 1);
    if (had === undefined) bound.delete(f.name);
    else bound.set(f.name, had);
    return ok;
  };
  return go(0, 0);
}

// ---------- unstructured terms ----------

function parseTerms(src: string): Term[] {
  const terms: Term[] = [];
  let i = 0;
  while (i < src.length) {
    if (/\s/.test(src[i]!)) {
      i++;
      continue;
    }
    let mode: Term['mode'] = 'and';
    if (src[i] === '?' || src[i] === '-') {
      mode = src[i] === '?' ? 'or' : 'not';
      i++;
    }
    if (src[i] === '"') {
      const [text, end] = quoted(src, i);
      i = end;
      if (text !== '') terms.push({ mode, text });
      continue;
    }
    if (src[i] === '%') {
      const end = src.indexOf('%', i + 1);
      if (end < 0) throw new FilterPatternError('Unterminated regular expression (%…%) in the filter pattern.');
      terms.push({ mode, re: regexOf(src.slice(i + 1, end)) });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < src.length && !/\s/.test(src[j]!)) j++;
    const word = src.slice(i, j);
    if (word === '') throw new FilterPatternError('A ? or - must be followed by a term.');
    // Terms with characters other than letters, digits and _ must be quoted (CloudWatch's rule); these would change meaning unquoted.
    if (/["{}[\]]/.test(word)) throw new FilterPatternError(`Invalid character(s) in term '${word}': quote terms that contain non-alphanumeric characters.`);
    terms.push({ mode, text: word });
    i = j;
  }
  return terms;
}

const hasTerm = (m: string, t: Term) => (t.re ? t.re.test(m) : m.includes(t.text!));

/** Compiles a filter pattern; throws FilterPatternError for a pattern CloudWatch would refuse. */
export function compileFilterPattern(pattern: string | undefined): CompiledPattern {
  const src = (pattern ?? '').trim();
  if (src === '' || src === '""') return { kind: 'all', required: [], matches: () => true };
  if (src.startsWith('{')) {
    const expr = parseJson(src);
    return {
      kind: 'json',
      required: [],
      matches: (message) => {
        const t = message.trimStart();
        if (!t.startsWith('{') && !t.startsWith('[')) return false;
        let doc: unknown;
        try {
          doc = JSON.parse(t);
        } catch {
          return false;
        }
        return evalJson(expr, doc);
      },
    };
  }
  if (src.startsWith('[')) {
    const fields = parseSpace(src);
    const conds = fields.flatMap((f) => (f.cond ? [f.cond] : []));
    const names = new Set(fields.filter((f) => !f.ellipsis).map((f) => f.name));
    const unknown = (c: FieldCond): string | undefined => (c.kind === 'cmp' ? (names.has(c.field) ? undefined : c.field) : (unknown(c.left) ?? unknown(c.right)));
    for (const c of conds) {
      const u = unknown(c);
      if (u) throw new FilterPatternError(`The condition names ${u}, which is not a field of the pattern.`);
    }
    return { kind: 'space', required: [], matches: (message) => matchSpace(fields, conds, message) };
  }
  const terms = parseTerms(src);
  if (terms.length === 0) return { kind: 'all', required: [], matches: () => true };
  const and = terms.filter((t) => t.mode === 'and');
  const or = terms.filter((t) => t.mode === 'or');
  const not = terms.filter((t) => t.mode === 'not');
  return {
    kind: 'terms',
    required: and.flatMap((t) => (t.text !== undefined ? [t.text] : [])),
    matches: (m) => and.every((t) => hasTerm(m, t)) && (or.length === 0 || or.some((t) => hasTerm(m, t))) && !not.some((t) => hasTerm(m, t)),
  };
}
