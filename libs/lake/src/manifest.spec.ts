import { hourOf, hourStartMillis, parseRawSegmentKey, rawManifestKey, rawSegmentKey } from './manifest';

describe('raw layout', () => {
  it('names segments so they sort by offset and parse back', () => {
    const key = rawSegmentKey('orders.order-placed.v1', '2026-11-28T05', 3, '42');
    expect(key).toBe(
      'raw/orders.order-placed.v1/dt=2026-11-28/hour=05/orders.order-placed.v1+3+00000000000000000042.avro',
    );
    expect(parseRawSegmentKey(key)).toEqual({
      topic: 'orders.order-placed.v1',
      hour: '2026-11-28T05',
      partition: 3,
      startOffset: '42',
    });
    expect(rawSegmentKey('t', '2026-11-28T05', 0, '9') < rawSegmentKey('t', '2026-11-28T05', 0, '10')).toBe(true);
    expect(parseRawSegmentKey(rawManifestKey('t', '2026-11-28T05'))).toBeUndefined();
  });

  it('maps instants to UTC hours and back', () => {
    const t = Date.parse('2026-11-28T05:59:59.999Z');
    expect(hourOf(t)).toBe('2026-11-28T05');
    expect(hourStartMillis('2026-11-28T05')).toBe(Date.parse('2026-11-28T05:00:00Z'));
    expect(() => hourStartMillis('2026-11-28 05')).toThrow();
    // Not rolled over into another hour's folder.
    expect(() => hourStartMillis('2026-11-28T24')).toThrow('not an hour');
    expect(() => hourStartMillis('2026-02-30T05')).toThrow('not an hour');
  });
});
