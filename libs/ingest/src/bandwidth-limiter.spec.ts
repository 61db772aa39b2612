import { BandwidthLimiter, parseByteRate } from './bandwidth-limiter';

describe('BandwidthLimiter', () => {
  it('lets one second of bytes through, then makes takers wait for their share', async () => {
    let now = 0;
    const slept: number[] = [];
    const limiter = new BandwidthLimiter(1000, () => now, async (ms) => {
      slept.push(ms);
      now += ms;
    });
    await limiter.take(1000);
    expect(slept).toEqual([]);
    await limiter.take(500);
    expect(slept).toEqual([500]);
    await limiter.take(2000);
    expect(slept).toEqual([500, 2000]);
    now += 10_000; // idle: the bucket refills to one second only
    await limiter.take(1500);
    expect(slept).toEqual([500, 2000, 500]);
  });

  it('refuses a limit that is not positive', () => {
    expect(() => new BandwidthLimiter(0)).toThrow(/> 0/);
  });
});

describe('parseByteRate', () => {
  it.each([
    ['1024', 1024],
    ['10MiB/s', 10 * 1024 * 1024],
    ['2MB', 2_000_000],
    ['512 KiB', 512 * 1024],
    ['1.5GiB', 1.5 * 1024 ** 3],
  ])('%s is %d bytes', (text, bytes) => expect(parseByteRate(text)).toBe(bytes));

  it.each(['', 'fast', '-1', '0', '10 parsecs'])('%s is not a size', (text) => expect(parseByteRate(text)).toBeUndefined());
});
