/**
 * A subset of CloudWatch metric math, as a pure function over time series already fetched:
 * numbers, query ids, `+ - * / ^`, unary minus, parentheses, arrays `[a, b]`, METRICS() and
 * METRICS('prefix') (the ids of the request's metric queries), SUM/AVG/MIN/MAX (over an array of
 * series: one series, point by point; over one series: a scalar), and FILL(x, value|REPEAT|LINEAR).
 * Series combine by timestamp: an operation between two series keeps the timestamps both have.
 */

/** A time series: timestamp (epoch seconds) → value. */
export type Series = Map<number, number>;
export type MathValue = { kind: 'scalar'; value: number } | { kind: 'series'; series: Series } | { kind: 'array'; items: Series[] };

export class MathError extends Error {}

type Node =
  | { t: 'num'; v: number }
  | { t: 'id'; name: string }
  | { t: 'str'; v: string }
  | { t: 'unary'; arg: Node }
  | { t: 'bin'; op: string; a: Node; b: Node }
  | { t: 'call'; name: string; args: Node[] }
  | { t: 'array'; items: Node[] };

const MAX_LENGTH = 2048;
const MAX_DEPTH = 32;

function tokenize(src: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(?:([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)|([A-Za-z_][A-Za-z0-9_]*)|('[^']*'|"[^"]*")|([-+*/^(),[\]]))/y;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw new MathError(`Unexpected character at position ${pos + 1} of the expression`);
    tokens.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
    pos = re.lastIndex;
  }
  return tokens;
}

/** Parses `src` into a tree; throws MathError on anything outside the subset. */
export function parseExpression(src: string): Node {
  if (src.length > MAX_LENGTH) throw new MathError('The expression is too long');
  const tokens = tokenize(src);
  let i = 0;
  const peek = () => tokens[i];
  const take = (expected?: string) => {
    const t = tokens[i++];
    if (t === undefined || (expected !== undefined && t !== expected)) throw new MathError(`Expected ${expected ?? 'more'} in the expression`);
    return t;
  };
  const expr = (depth: number): Node => {
    if (depth > MAX_DEPTH) throw new MathError('The expression is nested too deeply');
    let left = term(depth);
    while (peek() === '+' || peek() === '-') left = { t: 'bin', op: take(), a: left, b: term(depth) };
    return left;
  };
  const term = (depth: number): Node => {
    let left = power(depth);
    while (peek() === '*' || peek() === '/') left = { t: 'bin', op: take(), a: left, b: power(depth) };
    return left;
  };
  const power = (depth: number): Node => {
    const base = unary(depth);
    return peek() === '^' ? (take(), { t: 'bin', op: '^', a: base, b: power(depth + 1) }) : base;
  };
  const unary = (depth: number): Node => {
    if (depth > MAX_DEPTH) throw new MathError('The expression is nested too deeply');
    return peek() === '-' ? (take(), { t: 'unary', arg: unary(depth + 1) }) : primary(depth);
  };
  const primary = (depth: number): Node => {
    const tok = take();
    if (/^[0-9]/.test(tok)) return { t: 'num', v: Number(tok) };
    if (tok.startsWith("'") || tok.startsWith('"')) return { t: 'str', v: tok.slice(1, -1) };
    if (tok === '(') {
      const inner = expr(depth + 1);
      take(')');
      return inner;
    }
    if (tok === '[') {
      const items = list(']', depth);
      return { t: 'array', items };
    }
    if (/^[A-Za-z_]/.test(tok)) {
      if (peek() === '(') {
        take('(');
        return { t: 'call', name: tok.toUpperCase(), args: list(')', depth) };
      }
      return { t: 'id', name: tok };
    }
    throw new MathError(`Unexpected '${tok}' in the expression`);
  };
  const list = (close: string, depth: number): Node[] => {
    const items: Node[] = [];
    if (peek() === close) return (take(), items);
    for (;;) {
      items.push(expr(depth + 1));
      const t = take();
      if (t === close) return items;
      if (t !== ',') throw new MathError(`Expected ',' or '${close}' in the expression`);
    }
  };
  const tree = expr(0);
  if (i !== tokens.length) throw new MathError(`Unexpected '${tokens[i]}' in the expression`);
  return tree;
}

/** Ids an expression refers to (besides METRICS()), to order the evaluation of queries. */
export function referencedIds(node: Node): string[] {
  switch (node.t) {
    case 'id':
      return [node.name];
    case 'unary':
      return referencedIds(node.arg);
    case 'bin':
      return [...referencedIds(node.a), ...referencedIds(node.b)];
    case 'call':
    case 'array':
      return (node.t === 'call' ? node.args : node.items).flatMap(referencedIds);
    default:
      return [];
  }
}

export interface MathContext {
  /** The value of another query by id. */
  lookup(id: string): MathValue | undefined;
  /** The ids of the request's metric (not expression) queries, for METRICS(). */
  metricIds: readonly string[];
  /** Every period start of the request's range, for FILL. */
  grid: readonly number[];
}

export function evaluate(node: Node, ctx: MathContext): MathValue {
  switch (node.t) {
    case 'num':
      return { kind: 'scalar', value: node.v };
    case 'str':
      throw new MathError('A string is only allowed as the argument of METRICS()');
    case 'id': {
      const v = ctx.lookup(node.name);
      if (!v) throw new MathError(`Unknown metric or expression id: ${node.name}`);
      return v;
    }
    case 'unary':
      return arithmetic('*', { kind: 'scalar', value: -1 }, evaluate(node.arg, ctx));
    case 'bin':
      return arithmetic(node.op, evaluate(node.a, ctx), evaluate(node.b, ctx));
    case 'array':
      return { kind: 'array', items: node.items.flatMap((n) => seriesOf(evaluate(n, ctx), ctx)) };
    case 'call':
      return call(node, ctx);
  }
}

function seriesOf(v: MathValue, ctx: MathContext): Series[] {
  if (v.kind === 'array') return v.items;
  if (v.kind === 'series') return [v.series];
  return [new Map(ctx.grid.map((t) => [t, v.value]))];
}

function apply(op: string, x: number, y: number): number {
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return x / y;
    default:
      return x ** y;
  }
}

function arithmetic(op: string, a: MathValue, b: MathValue): MathValue {
  if (a.kind === 'array' || b.kind === 'array') {
    const items = a.kind === 'array' ? a.items : (b as { items: Series[] }).items;
    return { kind: 'array', items: items.map((s) => (arithmetic(op, a.kind === 'array' ? { kind: 'series', series: s } : a, b.kind === 'array' ? { kind: 'series', series: s } : b) as { series: Series }).series) };
  }
  if (a.kind === 'scalar' && b.kind === 'scalar') return { kind: 'scalar', value: apply(op, a.value, b.value) };
  const out: Series = new Map();
  if (a.kind === 'series' && b.kind === 'series') {
    for (const [t, x] of a.series) {
      const y = b.series.get(t);
      if (y !== undefined) out.set(t, apply(op, x, y));
    }
  } else if (a.kind === 'series') {
    for (const [t, x] of a.series) out.set(t, apply(op, x, (b as { value: number }).value));
  } else {
    for (const [t, y] of (b as { series: Series }).series) out.set(t, apply(op, (a as { value: number }).value, y));
  }
  return { kind: 'series', series: finite(out) };
}

/** Division by zero and the like leave no point, as CloudWatch drops non-finite values. */
function finite(s: Series): Series {
  for (const [t, v] of s) if (!Number.isFinite(v)) s.delete(t);
  return s;
}

const REDUCERS: Record<string, (xs: number[]) => number> = {
  SUM: (xs) => xs.reduce((a, b) => a + b, 0),
  AVG: (xs) => xs.reduce((a, b) => a + b, 0) / xs.length,
  MIN: (xs) => Math.min(...xs),
  MAX: (xs) => Math.max(...xs),
};

function call(node: Extract<Node, { t: 'call' }>, ctx: MathContext): MathValue {
  if (node.name === 'METRICS') {
    const prefix = node.args[0];
    if (node.args.length > 1 || (prefix && prefix.t !== 'str')) throw new MathError('METRICS() takes at most one string argument');
    const ids = ctx.metricIds.filter((id) => !prefix || id.startsWith((prefix as { v: string }).v));
    return { kind: 'array', items: ids.flatMap((id) => seriesOf(ctx.lookup(id) ?? { kind: 'array', items: [] }, ctx)) };
  }
  const reducer = REDUCERS[node.name];
  if (reducer) {
    if (node.args.length !== 1) throw new MathError(`${node.name} takes one argument`);
    const arg = evaluate(node.args[0]!, ctx);
    if (arg.kind === 'scalar') return arg;
    if (arg.kind === 'series') {
      const values = [...arg.series.values()];
      return values.length ? { kind: 'scalar', value: reducer(values) } : { kind: 'series', series: new Map() };
    }
    // Point by point over the array's series: timestamps any of them has.
    const byTime = new Map<number, number[]>();
    for (const s of arg.items) for (const [t, v] of s) (byTime.get(t) ?? byTime.set(t, []).get(t)!).push(v);
    return { kind: 'series', series: new Map([...byTime].sort((x, y) => x[0] - y[0]).map(([t, xs]) => [t, reducer(xs)])) };
  }
  if (node.name === 'FILL') {
    if (node.args.length !== 2) throw new MathError('FILL takes two arguments: FILL(metric, value | REPEAT | LINEAR)');
    const arg = evaluate(node.args[0]!, ctx);
    const how = node.args[1]!;
    const mode = how.t === 'id' && /^(REPEAT|LINEAR)$/i.test(how.name) ? how.name.toUpperCase() : undefined;
    const fillValue = mode ? undefined : evaluate(how, ctx);
    if (!mode && fillValue?.kind !== 'scalar') throw new MathError('The second argument of FILL must be a number, REPEAT or LINEAR');
    const fill = (s: Series) => fillSeries(s, ctx.grid, mode ?? (fillValue as { value: number }).value);
    if (arg.kind === 'scalar') return arg;
    return arg.kind === 'series' ? { kind: 'series', series: fill(arg.series) } : { kind: 'array', items: arg.items.map(fill) };
  }
  throw new MathError(`Unsupported function in the expression: ${node.name}`);
}

function fillSeries(s: Series, grid: readonly number[], how: number | string): Series {
  const out: Series = new Map();
  const known = grid.filter((t) => s.has(t));
  for (const t of grid) {
    const v = s.get(t);
    if (v !== undefined) {
      out.set(t, v);
      continue;
    }
    if (typeof how === 'number') out.set(t, how);
    else {
      const before = known.filter((k) => k < t).at(-1);
      const after = known.find((k) => k > t);
      if (how === 'REPEAT') {
        if (before !== undefined) out.set(t, s.get(before)!);
      } else if (before !== undefined && after !== undefined) {
        const a = s.get(before)!;
        const b = s.get(after)!;
        out.set(t, a + ((b - a) * (t - before)) / (after - before));
      }
    }
  }
  return out;
}
