/**
 * applyTopics against an in-memory stand-in for the kafkajs Admin, for the decisions its e2e test
 * (libs/kafka/test/topic-admin.e2e-spec.ts, real broker) does not pin down one by one: which request
 * carries what, and which change is reported. Added by the mutation-testing work (issue #10).
 */
import { ConfigResourceTypes, ConfigSource, type Admin } from 'kafkajs';
import { applyTopics, type TopicSpec } from './topic-admin';

interface FakeTopic {
  partitions: number;
  configs: Record<string, { value: string; source: ConfigSource; sensitive?: boolean }>;
}

class FakeAdmin {
  readonly calls: { method: string; args: unknown }[] = [];
  constructor(readonly topics: Record<string, FakeTopic>) {}

  async listTopics() {
    return Object.keys(this.topics);
  }
  async createTopics(args: { topics: { topic: string; numPartitions: number; configEntries: { name: string; value: string }[] }[] }) {
    this.calls.push({ method: 'createTopics', args });
    return true;
  }
  async fetchTopicMetadata({ topics }: { topics: string[] }) {
    this.calls.push({ method: 'fetchTopicMetadata', args: topics });
    return {
      topics: topics.map((name) => ({ name, partitions: Array.from({ length: this.topics[name].partitions }, (_, i) => ({ partitionId: i })) })),
    };
  }
  async describeConfigs(args: { includeSynonyms: boolean; resources: { type: number; name: string }[] }) {
    this.calls.push({ method: 'describeConfigs', args });
    return {
      resources: args.resources.map((r) => ({
        resourceName: r.name,
        configEntries: Object.entries(this.topics[r.name].configs).map(([configName, c]) => ({
          configName,
          configValue: c.value,
          configSource: c.source,
          isSensitive: c.sensitive ?? false,
        })),
      })),
    };
  }
  async createPartitions(args: unknown) {
    this.calls.push({ method: 'createPartitions', args });
  }
  async alterConfigs(args: unknown) {
    this.calls.push({ method: 'alterConfigs', args });
  }
  callsTo(method: string) {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }
}

const spec: TopicSpec = { name: 'orders.v1', partitions: 6, configs: { 'cleanup.policy': 'delete', 'retention.ms': '604800000' } };
const asTopic = (configs: Record<string, string>, source = ConfigSource.TOPIC_CONFIG) =>
  Object.fromEntries(Object.entries(configs).map(([k, value]) => [k, { value, source }]));

describe('applyTopics (unit)', () => {
  it('creates missing topics with their partitions, the broker default replication and their configs', async () => {
    const admin = new FakeAdmin({});
    expect(await applyTopics(admin as unknown as Admin, [spec])).toEqual([{ topic: 'orders.v1', action: 'created', partitions: 6 }]);
    expect(admin.callsTo('createTopics')).toEqual([
      {
        waitForLeaders: true,
        topics: [
          {
            topic: 'orders.v1',
            numPartitions: 6,
            replicationFactor: -1,
            configEntries: [
              { name: 'cleanup.policy', value: 'delete' },
              { name: 'retention.ms', value: '604800000' },
            ],
          },
        ],
      },
    ]);
    // Nothing existed: no describe, no alteration.
    expect(admin.calls.map((c) => c.method)).toEqual(['createTopics']);
  });

  it('leaves a matching topic alone and says so', async () => {
    const admin = new FakeAdmin({ 'orders.v1': { partitions: 6, configs: asTopic(spec.configs) } });
    expect(await applyTopics(admin as unknown as Admin, [spec])).toEqual([{ topic: 'orders.v1', action: 'unchanged' }]);
    expect(admin.callsTo('createTopics')).toEqual([]);
    expect(admin.callsTo('createPartitions')).toEqual([]);
    expect(admin.callsTo('alterConfigs')).toEqual([]);
    expect(admin.callsTo('describeConfigs')).toEqual([
      { includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders.v1' }] },
    ]);
  });

  it('adds partitions up to the spec, never removes them', async () => {
    const admin = new FakeAdmin({
      'orders.v1': { partitions: 3, configs: asTopic(spec.configs) },
      'big.v1': { partitions: 12, configs: asTopic(spec.configs) },
    });
    const changes = await applyTopics(admin as unknown as Admin, [spec, { ...spec, name: 'big.v1' }]);
    expect(changes).toEqual([
      { topic: 'orders.v1', action: 'partitions-increased', from: 3, to: 6 },
      { topic: 'big.v1', action: 'partitions-not-decreased', actual: 12, wanted: 6 },
    ]);
    expect(admin.callsTo('createPartitions')).toEqual([{ topicPartitions: [{ topic: 'orders.v1', count: 6 }] }]);
  });

  it('sets drifted configs, carrying over settings made on the topic and nothing inherited or secret', async () => {
    const admin = new FakeAdmin({
      'orders.v1': {
        partitions: 6,
        configs: {
          'cleanup.policy': { value: 'compact', source: ConfigSource.TOPIC_CONFIG },
          'retention.ms': { value: '604800000', source: ConfigSource.DEFAULT_CONFIG },
          'max.message.bytes': { value: '2097152', source: ConfigSource.TOPIC_CONFIG },
          'segment.bytes': { value: '1073741824', source: ConfigSource.DEFAULT_CONFIG },
          'sasl.secret': { value: 'x', source: ConfigSource.TOPIC_CONFIG, sensitive: true },
        },
      },
    });
    expect(await applyTopics(admin as unknown as Admin, [spec])).toEqual([
      { topic: 'orders.v1', action: 'configs-updated', configs: { 'cleanup.policy': { from: 'compact', to: 'delete' } } },
    ]);
    expect(admin.callsTo('alterConfigs')).toEqual([
      {
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: 'orders.v1',
            configEntries: [
              { name: 'cleanup.policy', value: 'delete' },
              { name: 'max.message.bytes', value: '2097152' },
              { name: 'retention.ms', value: '604800000' },
            ],
          },
        ],
      },
    ]);
  });

  it('reports a config missing on the topic as drift from undefined', async () => {
    const admin = new FakeAdmin({ 'orders.v1': { partitions: 6, configs: asTopic({ 'cleanup.policy': 'delete' }) } });
    expect(await applyTopics(admin as unknown as Admin, [spec])).toEqual([
      { topic: 'orders.v1', action: 'configs-updated', configs: { 'retention.ms': { from: undefined, to: '604800000' } } },
    ]);
  });

  it('handles new and existing topics in one call, reporting both', async () => {
    const admin = new FakeAdmin({ 'orders.v1': { partitions: 6, configs: asTopic(spec.configs) } });
    const changes = await applyTopics(admin as unknown as Admin, [spec, { ...spec, name: 'new.v1', partitions: 2 }]);
    expect(changes).toEqual([
      { topic: 'new.v1', action: 'created', partitions: 2 },
      { topic: 'orders.v1', action: 'unchanged' },
    ]);
    expect(admin.callsTo('fetchTopicMetadata')).toEqual([['orders.v1']]);
  });
});
