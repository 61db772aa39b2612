import { bytesToUnscaled, decimal, decimalFromBytes, decimalToBytes, DecimalError, toUnscaled, unscaledToBytes } from './decimal';

describe('decimal', () => {
  it.each([
    ['0', '0.00'],
    ['12.5', '12.50'],
    ['-0.01', '-0.01'],
    ['19.990', '19.99'],
    ['9999999999999999.99', '9999999999999999.99'],
  ])('normalizes %s to %s', (input, expected) => {
    expect(decimal(input)).toBe(expected);
  });

  it.each(['12.345', '1e3', 'abc', '', '1.2.3', '10000000000000000.00'])('rejects %j', (input) => {
    expect(() => decimal(input)).toThrow(DecimalError);
  });

  it.each([0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 256n, 999999999999999999n, -999999999999999999n])(
    'round-trips %s through Avro two\'s complement bytes',
    (unscaled) => {
      expect(bytesToUnscaled(unscaledToBytes(unscaled))).toBe(unscaled);
    },
  );

  it.each(['0.00', '0.01', '-0.01', '1.27', '1.28', '-1.28', '-1.29', '1407374883553.27', '1407374883553.28', '-1407374883553.27', '-1407374883553.28', '-1407374883553.29', '9999999999999999.99', '-9999999999999999.99'])(
    'encodes %s on the fast path exactly as the BigInt path does',
    (value) => {
      const bytes = decimalToBytes(value, 2, 18);
      expect(bytes).toEqual(unscaledToBytes(toUnscaled(value, 2)));
      expect(decimalFromBytes(bytes, 2)).toBe(value);
    },
  );

  it.each([
    ['-0.00', '0.00'],
    ['007.5', '7.50'],
    ['12', '12.00'],
  ])('normalizes %s to %s through bytes', (value, expected) => {
    expect(decimalFromBytes(decimalToBytes(value, 2, 18), 2)).toBe(expected);
  });

  it.each(['1.234', ' 1.00', '+1.00', '1,00', '-', '.5', '1.', '-1.'])('rejects %j on the way to bytes', (value) => {
    expect(() => decimalToBytes(value, 2, 18)).toThrow(DecimalError);
  });

  it('encodes the Avro spec examples exactly', () => {
    expect(unscaledToBytes(128n)).toEqual(Buffer.from([0x00, 0x80]));
    expect(unscaledToBytes(-128n)).toEqual(Buffer.from([0x80]));
    expect(unscaledToBytes(-129n)).toEqual(Buffer.from([0xff, 0x7f]));
    expect(toUnscaled('1.23', 2)).toBe(123n);
  });
});
