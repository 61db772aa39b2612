import { encodeBound, twosComplementBigEndian, unscaledDecimal } from './metrics';

describe("Iceberg's single-value encoding of bounds", () => {
  it('encodes decimals as minimal big-endian two’s complement of the unscaled value', () => {
    const hex = (n: bigint) => twosComplementBigEndian(n).toString('hex');
    expect(hex(0n)).toBe('00');
    expect(hex(127n)).toBe('7f');
    expect(hex(128n)).toBe('0080');
    expect(hex(-1n)).toBe('ff');
    expect(hex(-128n)).toBe('80');
    expect(hex(-129n)).toBe('ff7f');
    expect(hex(123456n)).toBe('01e240');
    expect(unscaledDecimal('1234.56', 2)).toBe(123456n);
    expect(unscaledDecimal('-0.5', 2)).toBe(-50n);
    expect(unscaledDecimal('7', 2)).toBe(700n);
    expect(encodeBound('decimal(18, 2)', '-1.29')!.toString('hex')).toBe('ff7f');
  });

  it('encodes numbers and timestamps little-endian, strings as UTF-8', () => {
    expect(encodeBound('int', 1)!.toString('hex')).toBe('01000000');
    expect(encodeBound('long', 2n ** 40n)!.toString('hex')).toBe('0000000000010000');
    // 2026-11-28T05:00:00Z in microseconds.
    expect(encodeBound('timestamptz', 1_795_842_000_000_000n)!.readBigInt64LE()).toBe(1_795_842_000_000_000n);
    expect(encodeBound('double', 1.5)!.readDoubleLE()).toBe(1.5);
    expect(encodeBound('float', 0.25)!.readFloatLE()).toBe(0.25);
    expect(encodeBound('boolean', true)!.toString('hex')).toBe('01');
    expect(encodeBound('string', 'é')!.toString('hex')).toBe('c3a9');
    expect(encodeBound('binary', 'cafe')!.toString('hex')).toBe('cafe');
  });

  it('leaves out nulls, nested types and bounds too long to keep whole', () => {
    expect(encodeBound('string', null)).toBeUndefined();
    expect(encodeBound('string', 'x'.repeat(65))).toBeUndefined();
    expect(encodeBound({ type: 'struct', fields: [] }, 'x')).toBeUndefined();
  });
});
