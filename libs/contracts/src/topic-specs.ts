import { allTopics, DLQ_PARTITIONS, DLQ_RETENTION_MS, type TopicDefinition } from './topic-catalog';

/** Broker-side shape of a catalog topic and its DLQ, as `npm run topics:apply` enforces it. */
export interface TopicLayout {
  name: string;
  partitions: number;
  configs: Record<string, string>;
}

export function topicLayout(topic: TopicDefinition): TopicLayout[] {
  const configs: Record<string, string> = {
    'cleanup.policy': topic.cleanupPolicy,
    'retention.ms': String(topic.retentionMs),
  };
  if (topic.cleanupPolicy === 'compact') {
    // Tombstones and superseded levels become compactable within a day.
    configs['min.compaction.lag.ms'] = '0';
    configs['delete.retention.ms'] = String(24 * 3_600_000);
  }
  return [
    { name: topic.name, partitions: topic.partitions, configs },
    {
      name: topic.dlq,
      partitions: DLQ_PARTITIONS,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(DLQ_RETENTION_MS) },
    },
  ];
}

export function catalogLayout(): TopicLayout[] {
  return allTopics.flatMap(topicLayout);
}
