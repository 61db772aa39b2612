/**
 * `npm run topics:apply` on the real broker: every catalog topic and its DLQ exist with the catalog's
 * partitions, cleanup policy, retention and compaction settings. The catalog topics are shared by every
 * test run, so this only applies (idempotent) and reads; expectations are spelled out here rather than
 * taken from `topicLayout`, so a change to the layout code cannot agree with itself. The same apply
 * also runs into scratch copies (TOPICS_NAME_PREFIX), created from nothing, so settings an earlier
 * apply left on the shared topics cannot hide a setting the layout no longer makes.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ConfigResourceTypes, ConfigSource, type Admin } from 'kafkajs';
import { loadConfig } from '@app/config';
import { allTopics } from '@app/contracts';
import { createKafkaClient } from '@app/kafka';
import { uniqueName } from '@app/testing';

const ROOT = join(__dirname, '../..');
const DAY_MS = 86_400_000;
const MANAGED = ['cleanup.policy', 'retention.ms', 'min.compaction.lag.ms', 'delete.retention.ms'];

const config = loadConfig(process.env, { service: 'topics-apply-e2e', defaultHttpPort: 0 });

function applyTopics(prefix = '') {
  return spawnSync('npm', ['run', '-s', 'topics:apply'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, TOPICS_NAME_PREFIX: prefix },
  });
}

describe.each([
  ['the shared catalog topics', ''],
  ['scratch copies created from nothing', `${uniqueName('scratch')}.`],
])('npm run topics:apply: %s', (_what, prefix) => {
  let admin: Admin;
  let firstApply: ReturnType<typeof applyTopics>;
  beforeAll(async () => {
    firstApply = applyTopics(prefix);
    admin = createKafkaClient(config.kafka).admin();
    await admin.connect();
  });
  afterAll(async () => {
    if (prefix) await admin.deleteTopics({ topics: allTopics.flatMap((t) => [prefix + t.name, prefix + t.dlq]) }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('applies without error', () => {
    expect(`${firstApply.stdout}${firstApply.stderr}`).not.toContain('topics:apply failed');
    expect(firstApply.status).toBe(0);
    if (prefix) expect(firstApply.stdout.trim().split('\n').filter((l) => l.startsWith('created'))).toHaveLength(allTopics.length * 2);
  });

  async function layoutOf(names: string[]) {
    const metadata = await admin.fetchTopicMetadata({ topics: names });
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: MANAGED })),
    });
    return new Map(
      names.map((name) => [
        name,
        {
          partitions: metadata.topics.find((t) => t.name === name)!.partitions.length,
          // Only settings made on the topic itself count: a broker default that happens to be equal
          // (Kafka's delete.retention.ms and min.compaction.lag.ms are) is not the catalog's setting.
          configs: Object.fromEntries(
            resources
              .find((r) => r.resourceName === name)!
              .configEntries.filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG)
              .map((e) => [e.configName, e.configValue]),
          ),
        },
      ]),
    );
  }

  it('creates every catalog topic with its partitions, cleanup policy, retention and compaction settings', async () => {
    const layout = await layoutOf(allTopics.map((t) => prefix + t.name));
    for (const topic of allTopics) {
      const actual = layout.get(prefix + topic.name)!;
      expect({ topic: topic.name, partitions: actual.partitions }).toEqual({ topic: topic.name, partitions: topic.partitions });
      expect(actual.configs).toMatchObject({ 'cleanup.policy': topic.cleanupPolicy, 'retention.ms': String(topic.retentionMs) });
      if (topic.cleanupPolicy === 'compact') {
        // Superseded stock levels become compactable at once; tombstones stay readable for a day.
        expect(actual.configs).toMatchObject({ 'min.compaction.lag.ms': '0', 'delete.retention.ms': String(DAY_MS) });
      }
    }
    expect(allTopics.some((t) => t.cleanupPolicy === 'compact')).toBe(true);
  });

  it('creates each DLQ with 3 partitions, deleted after 14 days', async () => {
    const layout = await layoutOf(allTopics.map((t) => prefix + t.dlq));
    for (const topic of allTopics) {
      expect(topic.dlq).toBe(`${topic.name}.dlq`);
      const actual = layout.get(prefix + topic.dlq)!;
      expect({ dlq: topic.dlq, partitions: actual.partitions, ...actual.configs }).toMatchObject({
        dlq: topic.dlq,
        partitions: 3,
        'cleanup.policy': 'delete',
        'retention.ms': String(14 * DAY_MS),
      });
    }
  });

  it('is idempotent: a second apply changes nothing', () => {
    const run = applyTopics(prefix);
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(allTopics.length * 2);
    for (const line of lines) expect(line).toMatch(/^unchanged\s/);
  });
});
