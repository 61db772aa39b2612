import { ConfigResourceTypes } from 'kafkajs';
import { loadConfig } from '@app/config';
import { uniqueName } from '@app/testing';
import { applyTopics, createKafkaClient, type TopicSpec } from '../src';

const config = loadConfig(process.env, { service: 'topic-admin-e2e', defaultHttpPort: 0 });

describe('applyTopics against the real broker', () => {
  const admin = createKafkaClient(config.kafka).admin();
  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());

  async function configOf(topic: string, name: string): Promise<string | undefined> {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }],
    });
    return resources[0].configEntries.find((e) => e.configName === name)?.configValue;
  }

  it('creates, then leaves alone, then converges partitions and configs', async () => {
    const name = uniqueName('admin.topic.v1');
    const spec: TopicSpec = { name, partitions: 2, configs: { 'cleanup.policy': 'compact', 'retention.ms': '-1' } };

    expect(await applyTopics(admin, [spec])).toEqual([{ topic: name, action: 'created', partitions: 2 }]);
    expect(await applyTopics(admin, [spec])).toEqual([{ topic: name, action: 'unchanged' }]);

    // An operator's own setting, which the platform does not manage, must survive every apply.
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name,
          configEntries: [
            ...Object.entries(spec.configs).map(([n, value]) => ({ name: n, value })),
            { name: 'max.message.bytes', value: '2097152' },
          ],
        },
      ],
    });

    const grown: TopicSpec = { ...spec, partitions: 4, configs: { ...spec.configs, 'retention.ms': '3600000' } };
    expect(await applyTopics(admin, [grown])).toEqual([
      { topic: name, action: 'partitions-increased', from: 2, to: 4 },
      { topic: name, action: 'configs-updated', configs: { 'retention.ms': { from: '-1', to: '3600000' } } },
    ]);
    const metadata = await admin.fetchTopicMetadata({ topics: [name] });
    expect(metadata.topics[0].partitions).toHaveLength(4);
    expect(await configOf(name, 'retention.ms')).toBe('3600000');
    expect(await configOf(name, 'cleanup.policy')).toBe('compact');
    expect(await configOf(name, 'max.message.bytes')).toBe('2097152');

    expect(await applyTopics(admin, [spec])).toEqual([
      { topic: name, action: 'partitions-not-decreased', actual: 4, wanted: 2 },
      { topic: name, action: 'configs-updated', configs: { 'retention.ms': { from: '3600000', to: '-1' } } },
    ]);
    expect(await configOf(name, 'max.message.bytes')).toBe('2097152');
  });
});
