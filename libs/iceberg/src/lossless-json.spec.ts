import { parseLosslessJson, stringifyLosslessJson, toLong } from './lossless-json';

describe('lossless JSON', () => {
  it('keeps 64-bit integers exact where JSON.parse rounds them', () => {
    const text = '{"snapshot-id": 9223372036854775807, "parent": -9223372036854775808, "small": 42, "ratio": 0.5, "big-float": 1e300}';
    expect(JSON.parse(text)['snapshot-id']).not.toBe(9223372036854775807n); // what the naive path does
    const parsed = parseLosslessJson(text) as Record<string, unknown>;
    expect(parsed).toEqual({ 'snapshot-id': 9223372036854775807n, parent: -9223372036854775808n, small: 42, ratio: 0.5, 'big-float': 1e300 });
    expect(stringifyLosslessJson(parsed, 0)).toBe('{"snapshot-id":9223372036854775807,"parent":-9223372036854775808,"small":42,"ratio":0.5,"big-float":1e+300}');
  });

  it('parses strings, escapes, nesting and literals like JSON.parse', () => {
    const text = '{"a":[1,2,{"b":"x\\"y\\u00e9\\n"}],"t":true,"f":false,"n":null,"e":[],"o":{}}';
    expect(parseLosslessJson(text)).toEqual(JSON.parse(text));
    expect(JSON.parse(stringifyLosslessJson(JSON.parse(text), 2))).toEqual(JSON.parse(text));
  });

  it('rejects malformed input', () => {
    for (const bad of ['{"a":1,}', '[1 2]', '{"a" 1}', '"open', '1 2', 'nul']) expect(() => parseLosslessJson(bad)).toThrow(SyntaxError);
  });

  it('reads longs from numbers, bigints and digit strings only', () => {
    expect(toLong(5)).toBe(5n);
    expect(toLong(12345678901234567890n)).toBe(12345678901234567890n);
    expect(toLong('-17')).toBe(-17n);
    expect(() => toLong(1.5)).toThrow(TypeError);
    expect(() => toLong('12a')).toThrow(TypeError);
  });
});
