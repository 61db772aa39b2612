/**
 * The catalog's broker-side layout, spelled out: what `npm run topics:apply` must create for each kind
 * of topic (scripts/topics/apply.e2e-spec.ts checks the same on the real broker). Lives here rather than
 * in libs/contracts (another helper's) and runs in the unit project and in contracts' mutation run.
 */
import { allTopics, catalogLayout, DLQ_PARTITIONS, DLQ_RETENTION_MS, topicByName, topicLayout, topics } from '@app/contracts';

const DAY_MS = 86_400_000;

describe('topic catalog layout', () => {
  it('keeps DLQ records 14 days on 3 partitions', () => {
    expect(DLQ_RETENTION_MS).toBe(14 * DAY_MS);
    expect(DLQ_PARTITIONS).toBe(3);
  });

  it('lays out a delete topic and its DLQ', () => {
    expect(topicLayout(topicByName(topics.orderPlaced.name)!)).toEqual([
      { name: 'orders.order-placed.v1', partitions: 6, configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) } },
      { name: 'orders.order-placed.v1.dlq', partitions: 3, configs: { 'cleanup.policy': 'delete', 'retention.ms': String(14 * DAY_MS) } },
    ]);
  });

  it('lays out a compacted topic with its compaction settings', () => {
    expect(topicLayout(topicByName(topics.stockLevel.name)!)[0]).toEqual({
      name: 'inventory.stock-level.v1',
      partitions: 6,
      configs: { 'cleanup.policy': 'compact', 'retention.ms': '-1', 'min.compaction.lag.ms': '0', 'delete.retention.ms': String(DAY_MS) },
    });
  });

  it('covers every catalog topic and its DLQ, once each', () => {
    const names = catalogLayout().map((t) => t.name);
    expect(names).toEqual(allTopics.flatMap((t) => [t.name, `${t.name}.dlq`]));
    expect(new Set(names).size).toBe(names.length);
  });

  it('finds topics by name and nothing else', () => {
    expect(topicByName('inventory.stock-level.v1')).toBe(topics.stockLevel);
    expect(topicByName('inventory.stock-level.v1.dlq')).toBeUndefined();
    expect(topicByName('nope')).toBeUndefined();
  });
});
