/**
 * The raw layout's names, strictly (found by mutation testing): hour strings, the manifest key, and
 * which keys are raw segments of which topic. Readers and the hour scan rely on these to skip anything
 * else a folder holds.
 */
import { HOUR_CLOSE_TOPIC, hourStartMillis, parseRawSegmentKey, rawHourPrefix, rawManifestKey, rawSegmentKey } from './manifest';

describe('raw layout names', () => {
  const key = rawSegmentKey('shop.thing.v1', '2026-11-28T05', 12, 7n);

  it('puts the manifest at the hour folder root, and the hour-close requests on the sink internal topic', () => {
    expect(rawManifestKey('shop.thing.v1', '2026-11-28T05')).toBe('raw/shop.thing.v1/dt=2026-11-28/hour=05/_manifest.json');
    expect(HOUR_CLOSE_TOPIC).toBe('s3-sink.hour-close');
  });

  it('accepts only whole YYYY-MM-DDTHH hours that exist', () => {
    for (const bad of ['x2026-11-28T05', '2026-11-28T05x', '2026-11-28T5', '2026-13-45T05']) {
      expect(() => hourStartMillis(bad)).toThrow(`not an hour (YYYY-MM-DDTHH): ${bad}`);
      expect(() => rawHourPrefix('t', bad)).toThrow('not an hour');
    }
  });

  it('parses multi-digit partitions and big offsets back', () => {
    expect(parseRawSegmentKey(key)).toEqual({ topic: 'shop.thing.v1', hour: '2026-11-28T05', partition: 12, startOffset: '7' });
    expect(parseRawSegmentKey(rawSegmentKey('t', '2026-11-28T05', 0, 2n ** 62n))?.startOffset).toBe(String(2n ** 62n));
  });

  it('rejects keys that only contain a segment name, or whose file belongs to another topic', () => {
    expect(parseRawSegmentKey(`backup/${key}`)).toBeUndefined();
    expect(parseRawSegmentKey(`${key}.tmp`)).toBeUndefined();
    expect(parseRawSegmentKey(key.replace('+12+', '+x+'))).toBeUndefined();
    expect(parseRawSegmentKey(key.replace('/shop.thing.v1+', '/other.v1+'))).toBeUndefined();
  });
});
