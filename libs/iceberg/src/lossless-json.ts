/**
 * JSON with lossless 64-bit integers. Iceberg snapshot ids are random longs far beyond 2^53, and
 * `JSON.parse` rounds them silently: integers outside the safe range parse to `bigint` here, and
 * `bigint` values serialize as bare JSON numbers.
 */

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

/** Parses JSON; integers beyond ±(2^53-1) become bigint, everything else is as `JSON.parse`. */
export function parseLosslessJson(text: string): JsonValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`invalid JSON at ${i}: ${what}`);
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const value = (): JsonValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: { [key: string]: JsonValue } = {};
      ws();
      if (text[i] === '}') return i++, out;
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = string();
        ws();
        if (text[i++] !== ':') fail('expected :');
        out[key] = value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return i++, out;
        else fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const out: JsonValue[] = [];
      ws();
      if (text[i] === ']') return i++, out;
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return i++, out;
        else fail('expected , or ]');
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) return (i += 4), true;
    if (text.startsWith('false', i)) return (i += 5), false;
    if (text.startsWith('null', i)) return (i += 4), null;
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!match) return fail('unexpected character');
    i += match[0].length;
    if (match[2] === undefined && match[3] === undefined) {
      const n = Number(match[0]);
      return Number.isSafeInteger(n) ? n : BigInt(match[0]);
    }
    return Number(match[0]);
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const result = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return result;
}

/** Serializes like `JSON.stringify(value, null, indent)`, writing bigint as a bare number. */
export function stringifyLosslessJson(value: unknown, indent = 2): string {
  const pad = (depth: number) => (indent > 0 ? '\n' + ' '.repeat(indent * depth) : '');
  const sep = indent > 0 ? ': ' : ':';
  const walk = (v: unknown, depth: number): string | undefined => {
    if (v === null) return 'null';
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
    if (v === undefined || typeof v === 'function') return undefined;
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[${v.map((x) => pad(depth + 1) + (walk(x, depth + 1) ?? 'null')).join(',')}${pad(depth)}]`;
    }
    const entries = Object.entries(v as object)
      .map(([k, x]) => [k, walk(x, depth + 1)] as const)
      .filter((e): e is readonly [string, string] => e[1] !== undefined);
    if (entries.length === 0) return '{}';
    return `{${entries.map(([k, x]) => pad(depth + 1) + JSON.stringify(k) + sep + x).join(',')}${pad(depth)}}`;
  };
  return walk(value, 0) ?? 'null';
}

/** A long that may have parsed as number or bigint (or come as a decimal string). */
export function toLong(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new TypeError(`not a 64-bit integer: ${String(value)}`);
}
