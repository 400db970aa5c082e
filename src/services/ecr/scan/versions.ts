/**
 * Version ordering as the package managers define it, for matching installed packages against
 * vulnerability ranges: dpkg (Debian policy §5.6.12, dpkg's verrevcmp), apk (apk-tools'
 * version.c) and rpm (rpmvercmp with epoch:version-release). Each returns <0, 0 or >0.
 * No well-kept npm package implements these (deb-version-compare was checked: one release,
 * ~800 downloads a month, no apk or rpm), so they are ported from the tools' own algorithms.
 */

// ---- dpkg

const isDigit = (c: string) => c >= '0' && c <= '9';
const isAlpha = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

/** dpkg's character order outside digit runs: ~ before end before letters before the rest. */
function dpkgOrder(c: string): number {
  if (c === '') return 0;
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i]!)) || (j < b.length && !isDigit(b[j]!))) {
      const ac = dpkgOrder(a.charAt(i));
      const bc = dpkgOrder(b.charAt(j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let firstDiff = 0;
    while (i < a.length && j < b.length && isDigit(a[i]!) && isDigit(b[j]!)) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a[i]!)) return 1;
    if (j < b.length && isDigit(b[j]!)) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

function parseDpkg(v: string): { epoch: number; upstream: string; revision: string } {
  const colon = v.indexOf(':');
  const epoch = colon >= 0 ? Number(v.slice(0, colon)) || 0 : 0;
  const rest = colon >= 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) } : { epoch, upstream: rest, revision: '' };
}

export function compareDpkg(a: string, b: string): number {
  const x = parseDpkg(a.trim());
  const y = parseDpkg(b.trim());
  if (x.epoch !== y.epoch) return x.epoch - y.epoch;
  return verrevcmp(x.upstream, y.upstream) || verrevcmp(x.revision, y.revision);
}

// ---- apk

const enum T {
  Invalid = -1,
  DigitOrZero = 0,
  Digit = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNo = 4,
  RevisionNo = 5,
  End = 6,
}
const PRE_SUFFIXES = ['alpha', 'beta', 'pre', 'rc'];
const POST_SUFFIXES = ['cvs', 'svn', 'git', 'hg', 'p'];
const isLower = (c: string) => c >= 'a' && c <= 'z';

class ApkTokens {
  pos = 0;
  type: T = T.Digit;
  constructor(private readonly s: string) {}

  /** Reads the separator after a token and decides the next token's type. */
  private next(): void {
    const s = this.s;
    let n: T = T.Invalid;
    const c = s.charAt(this.pos);
    if (this.pos >= s.length) n = T.End;
    else if ((this.type === T.Digit || this.type === T.DigitOrZero) && isLower(c)) n = T.Letter;
    else if (this.type === T.Letter && isDigit(c)) n = T.Digit;
    else if (this.type === T.Suffix && isDigit(c)) n = T.SuffixNo;
    else {
      if (c === '.') n = T.DigitOrZero;
      else if (c === '_') n = T.Suffix;
      else if (c === '-' && s.charAt(this.pos + 1) === 'r') {
        n = T.RevisionNo;
        this.pos++;
      }
      this.pos++;
    }
    if (n < this.type) {
      const allowed = (n === T.DigitOrZero && this.type === T.Digit) || (n === T.Suffix && this.type === T.SuffixNo) || (n === T.Digit && this.type === T.Letter);
      if (!allowed) n = T.Invalid;
    }
    this.type = n;
  }

  /** The current token's value; advances past it. */
  token(): number {
    const s = this.s;
    if (this.pos >= s.length) {
      this.type = T.End;
      return 0;
    }
    let v = 0;
    let i = this.pos;
    let forced: T | undefined;
    switch (this.type) {
      case T.DigitOrZero:
        if (s[i] === '0') {
          // Leading zeros after a dot: "1.01" sorts below "1.1".
          while (i < s.length && s[i] === '0') i++;
          v = this.pos - i;
          forced = T.Digit;
          break;
        }
      // falls through
      case T.Digit:
      case T.SuffixNo:
      case T.RevisionNo:
        while (i < s.length && isDigit(s[i]!)) v = v * 10 + (s.charCodeAt(i++) - 48);
        break;
      case T.Letter:
        v = s.charCodeAt(i++);
        break;
      case T.Suffix: {
        const rest = s.slice(i);
        const pre = PRE_SUFFIXES.findIndex((x) => rest.startsWith(x));
        if (pre >= 0) {
          v = pre - PRE_SUFFIXES.length;
          i += PRE_SUFFIXES[pre]!.length;
          break;
        }
        const post = POST_SUFFIXES.findIndex((x) => rest.startsWith(x));
        if (post >= 0) {
          v = post;
          i += POST_SUFFIXES[post]!.length;
          break;
        }
        this.type = T.Invalid;
        return -1;
      }
      default:
        this.type = T.Invalid;
        return -1;
    }
    this.pos = i;
    if (this.pos >= s.length) this.type = T.End;
    else if (forced !== undefined && isDigit(s[this.pos]!)) this.type = forced;
    else this.next();
    return v;
  }
}

export function compareApk(a: string, b: string): number {
  const x = new ApkTokens(a.trim());
  const y = new ApkTokens(b.trim());
  let av = 0;
  let bv = 0;
  while (x.type === y.type && x.type !== T.End && x.type !== T.Invalid && av === bv) {
    av = x.token();
    bv = y.token();
  }
  if (av !== bv) return av < bv ? -1 : 1;
  if (x.type === y.type) return 0;
  // Equal so far: the longer version is greater, unless what follows is a pre-release suffix.
  if (x.type === T.Suffix && peekSuffix(x) < 0) return -1;
  if (y.type === T.Suffix && peekSuffix(y) < 0) return 1;
  if (x.type > y.type) return -1;
  if (y.type > x.type) return 1;
  return 0;
}

function peekSuffix(t: ApkTokens): number {
  const copy = Object.assign(Object.create(ApkTokens.prototype) as ApkTokens, t);
  return copy.token();
}

// ---- rpm

const isAlnum = (c: string) => isDigit(c) || isAlpha(c);

export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]!) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]!) && b[j] !== '~' && b[j] !== '^') j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;
    const numeric = isDigit(a[i]!);
    const run = numeric ? isDigit : isAlpha;
    let ei = i;
    let ej = j;
    while (ei < a.length && run(a[ei]!)) ei++;
    while (ej < b.length && run(b[ej]!)) ej++;
    if (ej === j) return numeric ? 1 : -1;
    let x = a.slice(i, ei);
    let y = b.slice(j, ej);
    if (numeric) {
      x = x.replace(/^0+/, '');
      y = y.replace(/^0+/, '');
      if (x.length !== y.length) return x.length > y.length ? 1 : -1;
    }
    if (x !== y) return x < y ? -1 : 1;
    i = ei;
    j = ej;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i < a.length ? 1 : -1;
}

/** rpm's epoch:version-release order (a missing epoch is 0). */
export function compareRpm(a: string, b: string): number {
  const parse = (v: string) => {
    const colon = v.indexOf(':');
    const epoch = colon >= 0 ? Number(v.slice(0, colon)) || 0 : 0;
    const rest = colon >= 0 ? v.slice(colon + 1) : v;
    const dash = rest.lastIndexOf('-');
    return { epoch, version: dash >= 0 ? rest.slice(0, dash) : rest, release: dash >= 0 ? rest.slice(dash + 1) : '' };
  };
  const x = parse(a.trim());
  const y = parse(b.trim());
  if (x.epoch !== y.epoch) return x.epoch - y.epoch;
  return rpmvercmp(x.version, y.version) || (x.release && y.release ? rpmvercmp(x.release, y.release) : 0);
}
