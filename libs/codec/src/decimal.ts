/**
 * Money as exact decimals: a normalized string ("12.30") branded so a plain string or a float cannot
 * be passed where an amount is expected. Avro carries it as `bytes` with logicalType `decimal`.
 */
export type Decimal = string & { readonly __brand: 'Decimal' };

const DECIMAL_PATTERN = /^(-)?(\d+)(?:\.(\d+))?$/;

export class DecimalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecimalError';
  }
}

/** Parses an exact decimal, normalizing it to `scale` fraction digits; rejects anything inexact. */
export function decimal(value: string | bigint, scale = 2, precision = 18): Decimal {
  const unscaled = typeof value === 'bigint' ? value * 10n ** BigInt(scale) : toUnscaled(value, scale);
  return fromUnscaled(checkPrecision(unscaled, precision), scale);
}

/** The decimal as an integer count of its smallest unit (cents for scale 2). */
export function toUnscaled(value: string, scale: number): bigint {
  const match = DECIMAL_PATTERN.exec(value);
  if (!match) throw new DecimalError(`not a decimal: ${JSON.stringify(value)}`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > scale && /[^0]/.test(fraction.slice(scale))) {
    throw new DecimalError(`${value} has more than ${scale} fraction digits`);
  }
  const digits = BigInt(whole + fraction.slice(0, scale).padEnd(scale, '0'));
  return sign ? -digits : digits;
}

export function fromUnscaled(unscaled: bigint, scale: number): Decimal {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? '.' + fraction : ''}` as Decimal;
}

export function checkPrecision(unscaled: bigint, precision: number): bigint {
  const limit = 10n ** BigInt(precision);
  if (unscaled >= limit || unscaled <= -limit) {
    throw new DecimalError(`${unscaled} does not fit in precision ${precision}`);
  }
  return unscaled;
}

/** Big-endian two's complement, the minimal number of bytes (Avro decimal encoding). */
export function unscaledToBytes(unscaled: bigint): Buffer {
  let hex = (unscaled < 0n ? twosComplement(unscaled) : unscaled).toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let bytes = Buffer.from(hex, 'hex');
  // Keep the sign bit right: a positive number whose top bit is set needs a leading 0x00.
  if (unscaled >= 0n && bytes.length > 0 && bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  if (unscaled < 0n && !(bytes[0] & 0x80)) bytes = Buffer.concat([Buffer.from([0xff]), bytes]);
  return bytes.length ? bytes : Buffer.from([0]);
}

function twosComplement(negative: bigint): bigint {
  let bits = 8n;
  while (-negative > 1n << (bits - 1n)) bits += 8n;
  return (1n << bits) + negative;
}

export function bytesToUnscaled(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n;
  const magnitude = BigInt('0x' + bytes.toString('hex'));
  return bytes[0] & 0x80 ? magnitude - (1n << BigInt(bytes.length * 8)) : magnitude;
}

// Amounts whose unscaled value fits in 6 bytes (|x| < 2^47, i.e. over a trillion at scale 2) take a
// Number path: Buffer's 48-bit int read/write is exact there and avoids BigInt and hex strings,
// which dominate decode time otherwise. Larger values take the exact BigInt path.
const FAST_LIMIT = 2 ** 47;

function byteLengthOf(n: number): number {
  let length = 1;
  while (n >= 2 ** (8 * length - 1) || n < -(2 ** (8 * length - 1))) length++;
  return length;
}

/**
 * The unscaled value as a Number when the text is a plain decimal with at most `scale` fraction digits
 * and at most 15 digits in all (exact in a double); undefined sends the caller to the BigInt path.
 */
function smallUnscaled(value: string, scale: number): number | undefined {
  const dot = value.indexOf('.');
  const fraction = dot < 0 ? '' : value.slice(dot + 1);
  const whole = dot < 0 ? value : value.slice(0, dot);
  const negative = whole.startsWith('-');
  const wholeDigits = negative ? whole.slice(1) : whole;
  if (dot >= 0 && fraction.length === 0) return undefined; // "1." is not a decimal: the slow path says why
  if (fraction.length > scale || wholeDigits.length === 0 || wholeDigits.length + scale > 15) return undefined;
  const digits = wholeDigits + fraction.padEnd(scale, '0');
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const n = Number(digits);
  return negative ? -n : n;
}

/** Avro bytes of a decimal string at `scale`, checked against `precision`. */
export function decimalToBytes(value: string, scale: number, precision: number): Buffer {
  const n = smallUnscaled(value, scale);
  if (n !== undefined && n < FAST_LIMIT && n > -FAST_LIMIT && precision >= 15) {
    const bytes = Buffer.allocUnsafe(byteLengthOf(n));
    bytes.writeIntBE(n, 0, bytes.length);
    return bytes;
  }
  const unscaled = toUnscaled(value, scale);
  checkPrecision(unscaled, precision);
  if (unscaled < FAST_LIMIT && unscaled > -FAST_LIMIT) {
    const n = Number(unscaled);
    const bytes = Buffer.allocUnsafe(byteLengthOf(n));
    bytes.writeIntBE(n, 0, bytes.length);
    return bytes;
  }
  return unscaledToBytes(unscaled);
}

/** The decimal string that Avro bytes at `scale` stand for. */
export function decimalFromBytes(bytes: Buffer, scale: number): Decimal {
  if (bytes.length === 0) return fromUnscaled(0n, scale);
  if (bytes.length <= 6) {
    const n = bytes.readIntBE(0, bytes.length);
    const digits = Math.abs(n).toString().padStart(scale + 1, '0');
    const cut = digits.length - scale;
    return `${n < 0 ? '-' : ''}${digits.slice(0, cut)}${scale > 0 ? '.' + digits.slice(cut) : ''}` as Decimal;
  }
  return fromUnscaled(bytesToUnscaled(bytes), scale);
}
