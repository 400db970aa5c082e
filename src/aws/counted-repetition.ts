/**
 * V8's linear-time regexp engine refuses a counted repetition above 16 (`[A-Za-z0-9/+]{64}` in
 * ACM's CertificateBody): it unrolls counts and caps how far. The same language written as
 * several counts of at most 16 each is accepted, so this rewrites `X{n}`, `X{n,m}` and `X{n,}`
 * that way: `X{40}` → `X{16}X{16}X{8}`, `X{1,40}` → `X{1}X{0,16}X{0,16}X{0,7}`, `X{20,}` →
 * `X{16}X{4}X*`. A repeated group is copied as a non-capturing group (the copies' captures are
 * not used: validation only tests for a match).
 */
const MAX_COUNT = 16;

/** `source` with every counted repetition above MAX_COUNT split into counts of at most MAX_COUNT. */
export function splitCountedRepetitions(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const end = atomEnd(source, i);
    const atom = source.slice(i, end);
    const count = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(end));
    if (!count || !isRepeatable(atom)) {
      // Groups are rewritten inside too; anything else is copied as it is.
      out += atom.startsWith('(') ? groupWithSplitBody(atom) : atom;
      i = end;
      continue;
    }
    const min = Number(count[1]);
    const max = count[2] === undefined ? min : count[3] === '' ? Infinity : Number(count[3]);
    const unit = atom.startsWith('(') ? `(?:${groupBody(groupWithSplitBody(atom))})` : atom;
    out += repeat(unit, min, max);
    i = end + count[0].length;
    // A lazy or possessive marker after the count applies to the last piece; keep it.
  }
  return out;
}

function repeat(unit: string, min: number, max: number): string {
  if (min <= MAX_COUNT && max <= MAX_COUNT) return `${unit}{${min}${max === min ? '' : `,${max}`}}`;
  let out = '';
  for (let left = min; left > 0; left -= MAX_COUNT) out += `${unit}{${Math.min(left, MAX_COUNT)}}`;
  if (max === Infinity) return `${out}${unit}*`;
  for (let left = max - min; left > 0; left -= MAX_COUNT) out += `${unit}{0,${Math.min(left, MAX_COUNT)}}`;
  return out;
}

function isRepeatable(atom: string): boolean {
  return atom !== '' && !/^[|^$]$/.test(atom);
}

/** Where the atom starting at `i` ends: an escape, a class, a group (with what it holds), or one character. */
function atomEnd(s: string, i: number): number {
  const c = s[i];
  if (c === '\\') return escapeEnd(s, i);
  if (c === '[') {
    let j = i + 1;
    if (s[j] === '^') j += 1;
    if (s[j] === ']') j += 1;
    while (j < s.length && s[j] !== ']') j = s[j] === '\\' ? escapeEnd(s, j) : j + 1;
    return j + 1;
  }
  if (c === '(') {
    let j = i + 1;
    while (j < s.length && s[j] !== ')') j = atomEnd(s, j);
    return j + 1;
  }
  return i + 1;
}

function escapeEnd(s: string, i: number): number {
  const next = s[i + 1];
  if (next === 'u' && s[i + 2] === '{') return s.indexOf('}', i) + 1;
  if (next === 'u') return i + 6;
  if (next === 'x') return i + 4;
  if ((next === 'p' || next === 'P') && s[i + 2] === '{') return s.indexOf('}', i) + 1;
  return i + 2;
}

/** A group's opening (`(`, `(?:`, `(?<name>`, …) and closing kept, its body rewritten. */
function groupWithSplitBody(group: string): string {
  const open = /^\((\?(:|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>))?/.exec(group)![0];
  return `${open}${splitCountedRepetitions(group.slice(open.length, -1))})`;
}

function groupBody(group: string): string {
  const open = /^\((\?(:|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>))?/.exec(group)![0];
  return group.slice(open.length, -1);
}
