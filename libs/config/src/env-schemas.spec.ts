import { z } from 'zod';
import { ConfigError } from './app-config';
import { configErrorFrom, envByteSize, envDuration, envFlag, envInteger, isBlank, parseByteSize, parseDurationMs } from './env-schemas';

const MIB = 1024 * 1024;

/** The value, or the message of the single issue. */
function read<T>(schema: z.ZodType<T>, value: string | undefined): T | string {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : parsed.error.issues.map((i) => i.message).join('; ');
}

describe('parseDurationMs and parseByteSize', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1500', 1500],
    [' 5 s ', 5_000],
  ])('duration %s is %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', 'soon', '-1s', '1.5s', '2w', 's'])('%s is not a duration', (text) => expect(parseDurationMs(text)).toBeUndefined());

  it.each([
    ['12', 12],
    ['12b', 12],
    ['512KiB', 512 * 1024],
    ['64MiB', 64 * MIB],
    ['64mib', 64 * MIB],
    ['1GiB', 1024 * MIB],
    [' 8 MiB ', 8 * MIB],
  ])('size %s is %d bytes', (text, bytes) => expect(parseByteSize(text)).toBe(bytes));

  it.each(['', 'big', '1 GB', '10MB', '-5', '1.5MiB', 'MiB'])('%s is not a size', (text) => expect(parseByteSize(text)).toBeUndefined());

  it('treats unset, empty and spaces as blank', () => {
    expect([undefined, '', '  '].map(isBlank)).toEqual([true, true, true]);
    expect(isBlank('0')).toBe(false);
  });
});

describe('environment variable schemas', () => {
  it('envInteger: blank is the default, bounds are inclusive, anything else names the range', () => {
    const s = envInteger(8, 1, 64);
    expect([read(s, undefined), read(s, ''), read(s, '1'), read(s, '64'), read(s, ' 7 ')]).toEqual([8, 8, 1, 64, 7]);
    for (const bad of ['0', '65', '2.5', 'eight', '1e1', '0x10']) expect(read(s, bad)).toBe('expected an integer from 1 to 64');
    expect(read(envInteger(5, 0), '-1')).toBe('expected an integer of at least 0');
    expect(read(envInteger(5, 0), '123456789')).toBe(123456789);
  });

  it('envDuration: units to milliseconds, with its bounds in the message', () => {
    const s = envDuration(30_000, 6_000);
    expect([read(s, undefined), read(s, '6s'), read(s, '2m'), read(s, '6000')]).toEqual([30_000, 6_000, 120_000, 6_000]);
    expect(read(s, '5s')).toBe('expected a duration such as 30s, 10m or 2h (at least 6000 ms)');
    expect(read(s, 'later')).toBe('expected a duration such as 30s, 10m or 2h (at least 6000 ms)');
    expect(read(envDuration(1_000), 'x')).toBe('expected a duration such as 30s, 10m or 2h');
    expect(read(envDuration(1_000), '0')).toBe(0);
    expect(read(envDuration(1_000, 1, 60_000), '2m')).toBe('expected a duration such as 30s, 10m or 2h (1 to 60000 ms)');
  });

  it('envByteSize: binary units to bytes, with its bounds in the message', () => {
    const s = envByteSize(5 * MIB, 1024, 5 * MIB);
    expect([read(s, undefined), read(s, '1KiB'), read(s, '5MiB'), read(s, '2048')]).toEqual([5 * MIB, 1024, 5 * MIB, 2048]);
    expect(read(s, '6MiB')).toBe(`expected a size such as 64MiB or 1048576 (1024 to ${5 * MIB} bytes)`);
    expect(read(s, '1023')).toBe(`expected a size such as 64MiB or 1048576 (1024 to ${5 * MIB} bytes)`);
    expect(read(envByteSize(MIB), '0')).toBe('expected a size such as 64MiB or 1048576 (at least 1 byte)');
    expect(read(envByteSize(MIB, 0), 'huge')).toBe('expected a size such as 64MiB or 1048576');
  });

  it('envFlag: true/false/1/0 in any case, else refused', () => {
    const s = envFlag(true);
    expect([read(s, undefined), read(s, 'FALSE'), read(s, '0'), read(s, 'true'), read(s, ' 1 ')]).toEqual([true, false, false, true, true]);
    expect(read(envFlag(false), '')).toBe(false);
    expect(read(s, 'yes')).toBe('expected true or false');
  });

  it('configErrorFrom names every bad variable of an object schema at once', () => {
    const schema = z.object({ A_PORT: envInteger(1, 1, 65535), A_TIMEOUT: envDuration(1), A_SIZE: envByteSize(1), A_FLAG: envFlag(true) });
    const parsed = schema.safeParse({ A_PORT: '70000', A_TIMEOUT: 'soon', A_SIZE: '1MiB', A_FLAG: 'maybe' });
    expect(parsed.success).toBe(false);
    const err = configErrorFrom(parsed.error!);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems).toEqual([
      { variable: 'A_PORT', message: 'expected an integer from 1 to 65535' },
      { variable: 'A_TIMEOUT', message: 'expected a duration such as 30s, 10m or 2h' },
      { variable: 'A_FLAG', message: 'expected true or false' },
    ]);
    expect(err.message).toContain('  A_PORT: expected an integer from 1 to 65535');
    const whole = z.string().safeParse(1);
    expect(configErrorFrom(whole.error!).problems[0].variable).toBe('(environment)');
  });
});
