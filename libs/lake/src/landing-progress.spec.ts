import type { Admin } from 'kafkajs';
import { landingLag, waitForLanding } from './landing-progress';

describe('landingLag', () => {
  it('lists only the partitions whose committed offset is below the target', () => {
    const lag = landingLag('t', new Map([[0, 10n], [1, 5n], [2, 7n]]), new Map([[0, 10n], [1, 3n], [2, 9n]]));
    expect(lag.behind).toEqual([{ partition: 1, committed: 3n, target: 5n }]);
    expect(lag.offsets).toBe(2n);
  });

  it('counts a partition the group never committed from its low watermark', () => {
    const lag = landingLag('t', new Map([[0, 10n]]), new Map(), new Map([[0, 4n]]));
    expect(lag.behind).toEqual([{ partition: 0, committed: 4n, target: 10n }]);
    expect(lag.offsets).toBe(6n);
  });

  it('is empty for an empty partition nobody committed', () => {
    expect(landingLag('t', new Map([[0, 0n]]), new Map()).behind).toEqual([]);
  });
});

describe('waitForLanding', () => {
  function fakeAdmin(commits: number[][]): { admin: Admin; fetches: () => number } {
    let fetches = 0;
    const admin = {
      fetchTopicOffsets: async () => [
        { partition: 0, high: '10', low: '0', offset: '10' },
        { partition: 1, high: '4', low: '0', offset: '4' },
      ],
      fetchOffsets: async () => {
        const c = commits[Math.min(fetches++, commits.length - 1)];
        return [{ topic: 't', partitions: c.map((offset, partition) => ({ partition, offset: String(offset) })) }];
      },
    } as unknown as Admin;
    return { admin, fetches: () => fetches };
  }

  it('polls until every partition reaches the end offsets taken at the start', async () => {
    const { admin, fetches } = fakeAdmin([[-1, 2], [8, 4], [10, 4], [12, 4]]);
    const seen: bigint[] = [];
    const lag = await waitForLanding({ admin, groupId: 'g', topic: 't', timeoutMs: 60_000, sleep: async () => {}, onProgress: (l) => seen.push(l.offsets) });
    expect(lag.behind).toEqual([]);
    expect(seen).toEqual([12n, 2n, 0n]);
    expect(fetches()).toBe(3);
  });

  it('returns what is still missing when the timeout passes', async () => {
    let t = 0;
    const { admin } = fakeAdmin([[9, 4]]);
    const lag = await waitForLanding({ admin, groupId: 'g', topic: 't', timeoutMs: 3000, pollMs: 1000, now: () => t, sleep: async (ms) => void (t += ms) });
    expect(lag.behind).toEqual([{ partition: 0, committed: 9n, target: 10n }]);
    expect(t).toBe(3000);
  });
});
