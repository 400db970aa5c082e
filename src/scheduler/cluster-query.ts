/**
 * ECS's cluster query language (the `memberOf` constraint's expression), parsed into an AST.
 *
 *   expression := or
 *   or         := and { ("or" | "||") and }
 *   and        := unary { ("and" | "&&") unary }
 *   unary      := ("not" | "!") unary | "(" expression ")" | comparison
 *   comparison := subject operator [argument]
 *   argument   := value | "[" value { "," value } "]"
 *
 * Subjects and operators are the ones the ECS developer guide lists ("Create expressions to
 * define container instances"); anything else is rejected with a ClusterQueryError saying
 * where and why. Keywords (and, or, not, in, matches, ...) are case-insensitive; subject and
 * attribute names are case-sensitive. A value is a bare word or a '...'/"..." quoted string;
 * quote values that contain spaces or any of  ( ) [ ] , = ! < > ~ & |. A regex after =~ / !~
 * runs to the next blank outside parentheses, so `=~ (m5|c5)\..*` works unquoted. Regexes use
 * JavaScript syntax, which agrees with the Java syntax ECS documents for common patterns, and
 * must match the whole value (Java's Pattern.matches).
 */
import { ClusterQueryError } from './errors.js';

export type QueryOperator =
  | 'equals'
  | 'not_equals'
  | 'greater_than'
  | 'greater_than_equal'
  | 'less_than'
  | 'less_than_equal'
  | 'exists'
  | 'not_exists'
  | 'in'
  | 'not_in'
  | 'matches'
  | 'not_matches';

export type QueryField = 'agentConnected' | 'agentVersion' | 'ec2InstanceId' | 'registeredAt' | 'runningTasksCount' | 'task:group';

export type QuerySubject = { field: 'attribute'; name: string } | { field: QueryField };

export type ClusterQuery =
  | { type: 'or' | 'and'; left: ClusterQuery; right: ClusterQuery }
  | { type: 'not'; operand: ClusterQuery }
  | {
      type: 'comparison';
      subject: QuerySubject;
      operator: QueryOperator;
      /** A single value; a list for in / not_in; absent for exists / not_exists. */
      argument?: string | readonly string[];
    };

const OPERATOR_SPELLINGS: Readonly<Record<string, QueryOperator>> = {
  '==': 'equals',
  equals: 'equals',
  '!=': 'not_equals',
  not_equals: 'not_equals',
  '>': 'greater_than',
  greater_than: 'greater_than',
  '>=': 'greater_than_equal',
  greater_than_equal: 'greater_than_equal',
  '<': 'less_than',
  less_than: 'less_than',
  '<=': 'less_than_equal',
  less_than_equal: 'less_than_equal',
  exists: 'exists',
  '!exists': 'not_exists',
  not_exists: 'not_exists',
  in: 'in',
  '!in': 'not_in',
  not_in: 'not_in',
  '=~': 'matches',
  matches: 'matches',
  '!~': 'not_matches',
  not_matches: 'not_matches',
};

const STRING_OPERATORS: readonly QueryOperator[] = ['equals', 'not_equals', 'in', 'not_in', 'matches', 'not_matches'];
const ORDERED_OPERATORS: readonly QueryOperator[] = [
  'equals',
  'not_equals',
  'greater_than',
  'greater_than_equal',
  'less_than',
  'less_than_equal',
];
const PRESENCE_OPERATORS: readonly QueryOperator[] = ['exists', 'not_exists'];

/** Which operators each subject accepts (the ECS guide's "Valid operators" per subject). */
const VALID_OPERATORS: Readonly<Record<QueryField | 'attribute', readonly QueryOperator[]>> = {
  agentConnected: STRING_OPERATORS,
  agentVersion: ORDERED_OPERATORS,
  ec2InstanceId: STRING_OPERATORS,
  registeredAt: ORDERED_OPERATORS,
  runningTasksCount: ORDERED_OPERATORS,
  // The guide gives no list for these two; string comparison plus presence is what makes sense.
  attribute: [...STRING_OPERATORS, ...PRESENCE_OPERATORS],
  'task:group': [...STRING_OPERATORS, ...PRESENCE_OPERATORS],
};

const FIELDS: readonly QueryField[] = ['agentConnected', 'agentVersion', 'ec2InstanceId', 'registeredAt', 'runningTasksCount', 'task:group'];

type TokenKind = 'word' | 'quoted' | 'symbol' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  position: number;
}

/** Characters that end a bare word. */
const DELIMITERS = new Set(['(', ')', '[', ']', ',', '=', '!', '<', '>', '~', '&', '|', ' ', '\t', '\n', '\r']);

/** Splits the expression into tokens on demand, so the parser can read a regex argument raw. */
class Lexer {
  private at = 0;
  private buffered: Token | undefined;

  constructor(private readonly expression: string) {}

  peek(): Token {
    this.buffered ??= this.lex();
    return this.buffered;
  }

  next(): Token {
    const token = this.peek();
    this.buffered = undefined;
    return token;
  }

  /**
   * A regular expression argument: a quoted string, or everything up to the next blank outside
   * parentheses (so `(m5|c5)\..*` needs no quotes) or up to a ')' that closes an enclosing group.
   */
  pattern(): Token {
    if (this.buffered) return this.next();
    this.skipBlanks();
    const start = this.at;
    const text = this.expression;
    if (text[start] === "'" || text[start] === '"') return this.next();
    let depth = 0;
    let i = start;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')' && depth-- === 0) break;
      else if (depth === 0 && /\s/.test(c)) break;
    }
    this.at = Math.min(i, text.length);
    return i === start ? this.next() : { kind: 'word', text: text.slice(start, this.at), position: start };
  }

  private skipBlanks(): void {
    while (this.at < this.expression.length && /\s/.test(this.expression[this.at]!)) this.at++;
  }

  private lex(): Token {
    this.skipBlanks();
    const text = this.expression;
    const start = this.at;
    if (start >= text.length) return { kind: 'end', text: '', position: text.length };
    const c = text[start]!;
    const token = (kind: TokenKind, length: number, value = text.slice(start, start + length)): Token => {
      this.at = start + length;
      return { kind, text: value, position: start };
    };
    if (c === "'" || c === '"') {
      const close = text.indexOf(c, start + 1);
      if (close < 0) throw queryError(text, 'unterminated quoted value', start);
      return token('quoted', close + 1 - start, text.slice(start + 1, close));
    }
    const two = text.slice(start, start + 2);
    if (['==', '!=', '>=', '<=', '=~', '!~', '&&', '||'].includes(two)) return token('symbol', 2);
    if (c === '!') {
      // "!in" and "!exists" are operators; a lone "!" is "not".
      const word = /^!(in|exists)(?![^\s()[\],=!<>~&|])/i.exec(text.slice(start));
      if (word) return token('symbol', word[0].length, `!${word[1]!.toLowerCase()}`);
      return token('symbol', 1);
    }
    if ('()[],<>'.includes(c)) return token('symbol', 1);
    if (DELIMITERS.has(c)) throw queryError(text, `unexpected character '${c}'`, start);
    let end = start;
    while (end < text.length && !DELIMITERS.has(text[end]!)) end++;
    return token('word', end - start);
  }
}

function queryError(expression: string, problem: string, position: number): ClusterQueryError {
  return new ClusterQueryError(
    `Invalid placement constraint expression '${expression}': ${problem} (at character ${position + 1}).`,
    expression,
    position,
  );
}

/** Parses a cluster query expression; throws ClusterQueryError with a clear message on bad input. */
export function parseClusterQuery(expression: string): ClusterQuery {
  const lexer = new Lexer(expression);
  const peek = (): Token => lexer.peek();
  const next = (): Token => lexer.next();
  const fail = (problem: string, token: Token = peek()): never => {
    throw queryError(expression, problem, token.position);
  };
  const describe = (token: Token): string => (token.kind === 'end' ? 'the end of the expression' : `'${token.text}'`);
  const isKeyword = (token: Token, ...words: string[]): boolean =>
    (token.kind === 'word' || token.kind === 'symbol') && words.includes(token.text.toLowerCase());

  const parseOr = (): ClusterQuery => {
    let left = parseAnd();
    while (isKeyword(peek(), 'or', '||')) {
      next();
      left = { type: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): ClusterQuery => {
    let left = parseUnary();
    while (isKeyword(peek(), 'and', '&&')) {
      next();
      left = { type: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): ClusterQuery => {
    const token = peek();
    if (isKeyword(token, 'not', '!')) {
      next();
      return { type: 'not', operand: parseUnary() };
    }
    if (token.kind === 'symbol' && token.text === '(') {
      next();
      const inner = parseOr();
      const close = peek();
      if (!(close.kind === 'symbol' && close.text === ')')) fail(`expected ')' but found ${describe(close)}`);
      next();
      return inner;
    }
    return parseComparison();
  };
  const parseSubject = (): QuerySubject => {
    const token = next();
    if (token.kind !== 'word') return fail(`expected a subject (attribute:<name>, ${FIELDS.join(', ')}) but found ${describe(token)}`, token);
    if (token.text.startsWith('attribute:')) {
      const name = token.text.slice('attribute:'.length);
      if (name === '') fail(`'attribute:' needs an attribute name`, token);
      return { field: 'attribute', name };
    }
    const field = FIELDS.find((f) => f === token.text);
    if (!field) return fail(`unknown subject '${token.text}'; expected attribute:<name>, ${FIELDS.join(', ')}`, token);
    return { field };
  };
  const parseValue = (): string => {
    const token = next();
    if (token.kind === 'word' || token.kind === 'quoted') return token.text;
    return fail(`expected a value but found ${describe(token)}`, token);
  };
  const parseComparison = (): ClusterQuery => {
    const subjectToken = peek();
    const subject = parseSubject();
    const operatorToken = next();
    const operator =
      operatorToken.kind === 'word' || operatorToken.kind === 'symbol' ? OPERATOR_SPELLINGS[operatorToken.text.toLowerCase()] : undefined;
    if (!operator) return fail(`expected an operator after '${subjectToken.text}' but found ${describe(operatorToken)}`, operatorToken);
    const valid = VALID_OPERATORS[subject.field];
    if (!valid.includes(operator)) {
      fail(`operator '${operatorToken.text}' is not valid for '${subjectToken.text}'; valid operators: ${valid.join(', ')}`, operatorToken);
    }
    if (operator === 'exists' || operator === 'not_exists') return { type: 'comparison', subject, operator };
    if (operator === 'in' || operator === 'not_in') {
      const open = peek();
      if (!(open.kind === 'symbol' && open.text === '[')) fail(`'${operatorToken.text}' expects an argument list like [a, b] but found ${describe(open)}`);
      next();
      const values = [parseValue()];
      for (;;) {
        const separator = next();
        if (separator.kind === 'symbol' && separator.text === ']') break;
        if (!(separator.kind === 'symbol' && separator.text === ',')) fail(`expected ',' or ']' but found ${describe(separator)}`, separator);
        values.push(parseValue());
      }
      return checkArgument(expression, { type: 'comparison', subject, operator, argument: values }, open);
    }
    if (operator === 'matches' || operator === 'not_matches') {
      const pattern = lexer.pattern();
      if (pattern.kind !== 'word' && pattern.kind !== 'quoted') fail(`expected a value but found ${describe(pattern)}`, pattern);
      return checkArgument(expression, { type: 'comparison', subject, operator, argument: pattern.text }, pattern);
    }
    const open = peek();
    if (open.kind === 'symbol' && open.text === '[') fail(`only 'in' and 'not_in' take an argument list`);
    return checkArgument(expression, { type: 'comparison', subject, operator, argument: parseValue() }, open);
  };

  if (peek().kind === 'end') fail('the expression is empty');
  const query = parseOr();
  if (peek().kind !== 'end') fail(`unexpected ${describe(peek())}; join expressions with 'and' or 'or'`);
  return query;
}

/** Rejects arguments that can never compare: bad numbers, dates, versions or regular expressions. */
function checkArgument(expression: string, query: ClusterQuery & { type: 'comparison' }, at: Token): ClusterQuery {
  const values = typeof query.argument === 'string' ? [query.argument] : (query.argument ?? []);
  for (const value of values) {
    let problem: string | undefined;
    if (query.operator === 'matches' || query.operator === 'not_matches') {
      problem = tryRegex(value) === undefined ? `'${value}' is not a valid regular expression` : undefined;
    } else if (query.subject.field === 'runningTasksCount') {
      problem = /^\d+$/.test(value) ? undefined : `runningTasksCount compares with a whole number, not '${value}'`;
    } else if (query.subject.field === 'registeredAt') {
      problem = parseQueryDate(value) === undefined ? `'${value}' is not a date like 2018-06-18T22:28:28Z or 2018-06-18` : undefined;
    } else if (query.subject.field === 'agentVersion') {
      problem = parseVersion(value) === undefined ? `'${value}' is not a version like 1.14.5` : undefined;
    }
    if (problem) throw queryError(expression, problem, at.position);
  }
  return query;
}

/** Java's Pattern.matches() semantics: the whole value must match. */
export function tryRegex(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    return undefined;
  }
}

/** The date formats ECS documents for registeredAt, as epoch seconds (no zone = UTC). */
export function parseQueryDate(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})?)?$/.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', zone] = match;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let seconds = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s)) / 1000;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    seconds -= sign * (Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(4, 6)) * 60);
  }
  return seconds;
}

/** A dotted numeric version ("1.14.5") as its numeric parts. */
export function parseVersion(text: string): number[] | undefined {
  if (!/^\d+(\.\d+)*$/.test(text)) return undefined;
  return text.split('.').map(Number);
}
