import { abortedRecords, hideAbortedRecords, type FetchedRecord } from './read-committed';

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

/** A partition's records, in offset order: `[producerId, 'data' | 'abort' | 'commit' | 'plain']`. */
function partition(...spec: Array<[string, 'data' | 'abort' | 'commit' | 'plain']>): FetchedRecord[] {
  return spec.map(([producerId, kind], offset) => ({
    offset: String(offset),
    key: kind === 'abort' ? ABORT : kind === 'commit' ? COMMIT : Buffer.from(`k${offset}`),
    isControlRecord: kind === 'abort' || kind === 'commit',
    batchContext: { producerId, inTransaction: kind !== 'plain' },
  }));
}

const offsetsOf = (records: Iterable<FetchedRecord>) => [...records].map((r) => Number(r.offset)).sort((a, b) => a - b);

describe('abortedRecords (read_committed, as the Java consumer filters)', () => {
  it('finds both transactions when the later-started one was aborted first (the broker lists them by abort marker)', () => {
    // 0: P1 data, 1: P2 data, 2: P2 abort, 3: P1 abort, 4: plain
    const records = partition(['1', 'data'], ['2', 'data'], ['2', 'abort'], ['1', 'abort'], ['-1', 'plain']);
    const listedByMarker = [
      { producerId: '2', firstOffset: '1' },
      { producerId: '1', firstOffset: '0' },
    ];
    expect(offsetsOf(abortedRecords(records, listedByMarker))).toEqual([0, 1]);
  });

  it('activates every transaction that began before the first fetched record, not one per record', () => {
    // The fetch starts at offset 3; P1 began at 0 and P2 at 1, both aborted later.
    const all = partition(['1', 'data'], ['2', 'data'], ['1', 'data'], ['2', 'data'], ['1', 'abort'], ['2', 'abort'], ['3', 'data'], ['3', 'commit']);
    const fetched = all.slice(3);
    const aborted = [
      { producerId: '1', firstOffset: '0' },
      { producerId: '2', firstOffset: '1' },
    ];
    expect(offsetsOf(abortedRecords(fetched, aborted))).toEqual([3]);
  });

  it('lets the same producer’s next, committed transaction through after its abort marker', () => {
    const records = partition(['1', 'data'], ['1', 'abort'], ['1', 'data'], ['1', 'commit']);
    expect(offsetsOf(abortedRecords(records, [{ producerId: '1', firstOffset: '0' }]))).toEqual([0]);
  });

  it('never drops records written outside a transaction, nor other producers’ committed ones', () => {
    const records = partition(['1', 'data'], ['-1', 'plain'], ['2', 'data'], ['2', 'commit'], ['1', 'abort']);
    expect(offsetsOf(abortedRecords(records, [{ producerId: '1', firstOffset: '0' }]))).toEqual([0]);
  });

  it('returns nothing when no transaction was aborted', () => {
    expect(abortedRecords(partition(['1', 'data'], ['1', 'commit']), []).size).toBe(0);
  });
});

describe('hideAbortedRecords', () => {
  it('flags aborted records as control records (kafkajs hides them and moves past) and empties the list', () => {
    const messages = partition(['1', 'data'], ['2', 'data'], ['2', 'abort'], ['1', 'abort'], ['-1', 'plain']);
    const response = {
      responses: [
        {
          partitions: [
            {
              abortedTransactions: [
                { producerId: '2', firstOffset: '1' },
                { producerId: '1', firstOffset: '0' },
              ],
              messages,
            },
          ],
        },
      ],
    };
    hideAbortedRecords(response);
    expect(response.responses[0].partitions[0].abortedTransactions).toEqual([]);
    expect(messages.filter((m) => !m.isControlRecord).map((m) => m.offset)).toEqual(['4']);
  });
});
