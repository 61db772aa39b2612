import { ConfigResourceTypes, ConfigSource, type Admin } from 'kafkajs';

/** A topic as it should exist on the cluster. */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** Topic-level configs to enforce, e.g. `cleanup.policy`, `retention.ms`. */
  configs: Record<string, string>;
}

export type TopicChange =
  | { topic: string; action: 'created'; partitions: number }
  | { topic: string; action: 'partitions-increased'; from: number; to: number }
  | { topic: string; action: 'configs-updated'; configs: Record<string, { from?: string; to: string }> }
  | { topic: string; action: 'unchanged' }
  | { topic: string; action: 'partitions-not-decreased'; actual: number; wanted: number };

/**
 * Makes the cluster match the specs: creates missing topics, adds partitions, and sets drifted
 * configs. Idempotent; never deletes topics or partitions (Kafka cannot shrink a topic).
 */
export async function applyTopics(admin: Admin, specs: TopicSpec[]): Promise<TopicChange[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  const changes: TopicChange[] = [];

  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      // Replication factor -1 takes the broker's default.replication.factor (KIP-464): 1 locally, 3 on MSK.
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor: -1,
        configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
      })),
    });
    for (const s of missing) changes.push({ topic: s.name, action: 'created', partitions: s.partitions });
  }

  const present = specs.filter((s) => existing.has(s.name));
  if (present.length === 0) return changes;

  const metadata = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
  const partitionCounts = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
  // All configs, not just the managed ones: the alteration below must carry the others over.
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name })),
  });
  const actualConfigs = new Map(
    described.resources.map((r) => [r.resourceName, new Map(r.configEntries.map((e) => [e.configName, e.configValue]))]),
  );
  // Set on the topic itself (by an operator or an earlier apply), as opposed to inherited defaults.
  const topicLevelConfigs = new Map(
    described.resources.map((r) => [
      r.resourceName,
      Object.fromEntries(
        r.configEntries
          .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG && !e.isSensitive)
          .map((e) => [e.configName, e.configValue]),
      ),
    ]),
  );

  for (const spec of present) {
    const actualPartitions = partitionCounts.get(spec.name) ?? 0;
    let changed = false;
    if (actualPartitions < spec.partitions) {
      await admin.createPartitions({ topicPartitions: [{ topic: spec.name, count: spec.partitions }] });
      changes.push({ topic: spec.name, action: 'partitions-increased', from: actualPartitions, to: spec.partitions });
      changed = true;
    } else if (actualPartitions > spec.partitions) {
      changes.push({ topic: spec.name, action: 'partitions-not-decreased', actual: actualPartitions, wanted: spec.partitions });
      changed = true;
    }
    const actual = actualConfigs.get(spec.name) ?? new Map<string, string>();
    const drift: Record<string, { from?: string; to: string }> = {};
    for (const [name, value] of Object.entries(spec.configs)) {
      if (actual.get(name) !== value) drift[name] = { from: actual.get(name), to: value };
    }
    if (Object.keys(drift).length > 0) {
      // kafkajs only has the legacy AlterConfigs, which replaces every topic-level config: send the
      // ones set on the topic today (say an operator's min.insync.replicas) along with the managed ones.
      const merged = { ...topicLevelConfigs.get(spec.name), ...spec.configs };
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: spec.name,
            configEntries: Object.entries(merged).map(([name, value]) => ({ name, value })),
          },
        ],
      });
      changes.push({ topic: spec.name, action: 'configs-updated', configs: drift });
      changed = true;
    }
    if (!changed) changes.push({ topic: spec.name, action: 'unchanged' });
  }
  return changes;
}
