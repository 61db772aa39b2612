import { iamActionsFor, iamPolicyStatementsFor, mskPermissionsFor, mskResourceArn } from './access-iam';
import { kafkaGrantsFor, serviceAccess, serviceAccessFor, type KafkaGrant } from './access';
import { allTopics, topics } from './topic-catalog';

const cluster = { partition: 'aws', region: 'eu-west-1', account: '123456789012', clusterName: 'securecart', clusterUuid: 'abc-1' };
const lake = { bucketArn: 'arn:aws:s3:::securecart-lake', kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k1' };

function topicOps(grants: KafkaGrant[], name: string): string[] {
  return grants.filter((g) => g.resourceType === 'topic' && g.patternType === 'literal' && g.name === name).flatMap((g) => g.operations);
}

describe('service access data', () => {
  it('defines every service principal once, ingestion services included', () => {
    expect(serviceAccess.map((a) => a.service)).toEqual([
      'order-service',
      'inventory-service',
      'fraud-service',
      's3-sink',
      'clickstream-collector',
      'file-ingest',
      'partner-sftp',
      'daily-batch',
    ]);
  });

  it.each(serviceAccess.map((a) => [a.service, a] as const))('%s follows the platform conventions', (service, access) => {
    const grants = kafkaGrantsFor(access);
    const groups = grants.filter((g) => g.resourceType === 'group');
    expect(groups.map((g) => [g.patternType, g.name])).toEqual([
      ['literal', service],
      ['prefixed', `${service}.`],
    ]);
    const txn = grants.filter((g) => g.resourceType === 'transactional-id');
    expect(txn).toEqual([expect.objectContaining({ patternType: 'prefixed', name: `${service}.`, operations: ['Write', 'Describe'] })]);
    const internal = grants.filter((g) => g.resourceType === 'topic' && g.patternType === 'prefixed');
    expect(internal.map((g) => g.name)).toEqual([`${service}.`]);
    expect(internal[0].operations).toContain('Create');
    for (const t of access.consumes) {
      expect(topicOps(grants, t.name)).toEqual(expect.arrayContaining(['Read', 'Describe']));
      expect(topicOps(grants, t.dlq)).toEqual(['Write', 'Describe']);
    }
    // Writes nothing but its own topics, its DLQs and its internal topics.
    const written = grants.filter((g) => g.resourceType === 'topic' && g.operations.includes('Write') && g.patternType === 'literal').map((g) => g.name);
    expect(written.sort()).toEqual([...access.produces.map((t) => t.name), ...access.consumes.map((t) => t.dlq), ...(access.commandTopics ?? [])].sort());
  });

  it('lets file-ingest send stock counts to inventory-service\'s SKU writer and nothing else of another service', () => {
    const commandGrants = (service: string) => kafkaGrantsFor(serviceAccessFor(service)).filter((g) => g.reason === 'sends commands to the owning service');
    expect(commandGrants('file-ingest')).toEqual([
      { resourceType: 'topic', patternType: 'literal', name: 'inventory-service.sku-requests', operations: ['Write', 'Describe'], reason: 'sends commands to the owning service' },
    ]);
    for (const a of serviceAccess.filter((x) => x.service !== 'file-ingest')) expect(commandGrants(a.service)).toEqual([]);
    expect(serviceAccessFor('partner-sftp')).toMatchObject({ produces: [topics.partnerFileReceived], lakePrefixes: ['partners/'] });
  });

  it('gives each service exactly the topics of the flow', () => {
    const names = (service: string, key: 'consumes' | 'produces') => serviceAccessFor(service)[key].map((t) => t.name).sort();
    expect(names('order-service', 'produces')).toEqual(allTopics.filter((t) => t.name.startsWith('orders.')).map((t) => t.name).sort());
    expect(names('order-service', 'consumes')).toEqual(
      [topics.orderPlaced, topics.stockReserved, topics.stockReservationRejected, topics.fraudAssessed].map((t) => t.name).sort(),
    );
    expect(names('inventory-service', 'consumes')).toEqual([...names('order-service', 'produces'), topics.stockLevel.name].sort());
    expect(names('inventory-service', 'produces')).toEqual(allTopics.filter((t) => t.name.startsWith('inventory.')).map((t) => t.name).sort());
    expect(names('fraud-service', 'consumes')).toEqual([topics.orderPlaced.name]);
    expect(names('fraud-service', 'produces')).toEqual([topics.fraudAssessed.name]);
    expect(names('s3-sink', 'consumes')).toEqual(allTopics.map((t) => t.name).sort());
    expect(names('s3-sink', 'produces')).toEqual([]);
    expect(names('clickstream-collector', 'produces')).toEqual([topics.clickstream.name]);
  });

  it('has every catalog topic written by exactly one service', () => {
    for (const t of allTopics) {
      expect([t.name, serviceAccess.filter((a) => a.produces.includes(t)).map((a) => a.service)]).toEqual([t.name, [expect.any(String)]]);
    }
  });

  it('never lets one service prefix cover another service name (no shared groups, ids or internal topics)', () => {
    for (const a of serviceAccess) {
      for (const b of serviceAccess) {
        if (a !== b) expect(`${b.service}.`.startsWith(`${a.service}.`)).toBe(false);
      }
      for (const t of allTopics) expect(t.name.startsWith(`${a.service}.`)).toBe(false);
    }
  });

  it('throws for an unknown service', () => {
    expect(() => serviceAccessFor('payments')).toThrow('no access defined for service "payments"');
  });
});

describe('IAM policies generated from the same data', () => {
  it.each(serviceAccess.map((a) => [a.service, a] as const))('%s: Kafka resources are exactly the ACL grants, plus Connect', (_service, access) => {
    const permissions = mskPermissionsFor(access, cluster);
    const expected = new Map<string, Set<string>>([[
      'arn:aws:kafka:eu-west-1:123456789012:cluster/securecart/abc-1',
      new Set(['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently']),
    ]]);
    for (const g of kafkaGrantsFor(access)) {
      const arn = mskResourceArn(cluster, g);
      expected.set(arn, new Set([...(expected.get(arn) ?? []), ...iamActionsFor(g)]));
    }
    expect(new Map([...permissions].map(([arn, actions]) => [arn, new Set(actions)]))).toEqual(expected);
    const statements = iamPolicyStatementsFor(access, cluster, lake);
    const kafkaResources = statements.filter((s) => s.Action.some((a) => a.startsWith('kafka-cluster:'))).flatMap((s) => s.Resource);
    expect(kafkaResources.sort()).toEqual([...permissions.keys()].sort());
    for (const s of statements) {
      expect(s.Resource).not.toContain('*');
      for (const r of s.Resource) {
        expect(r).not.toBe(`${lake.bucketArn}/*`);
        if (r.startsWith('arn:aws:kafka:') && r.endsWith('*')) expect(r).toMatch(new RegExp(`/${access.service}\\.\\*$`));
      }
    }
  });

  it('names exact topic ARNs and prefixes with a trailing * only for the service prefix', () => {
    const arns = [...mskPermissionsFor(serviceAccessFor('fraud-service'), cluster).keys()];
    expect(arns).toEqual(
      expect.arrayContaining([
        'arn:aws:kafka:eu-west-1:123456789012:topic/securecart/abc-1/orders.order-placed.v1',
        'arn:aws:kafka:eu-west-1:123456789012:topic/securecart/abc-1/orders.order-placed.v1.dlq',
        'arn:aws:kafka:eu-west-1:123456789012:topic/securecart/abc-1/fraud.fraud-assessed.v1',
        'arn:aws:kafka:eu-west-1:123456789012:topic/securecart/abc-1/fraud-service.*',
        'arn:aws:kafka:eu-west-1:123456789012:group/securecart/abc-1/fraud-service',
        'arn:aws:kafka:eu-west-1:123456789012:group/securecart/abc-1/fraud-service.*',
        'arn:aws:kafka:eu-west-1:123456789012:transactional-id/securecart/abc-1/fraud-service.*',
      ]),
    );
    expect(arns.filter((a) => a.endsWith('*')).every((a) => a.endsWith('/fraud-service.*'))).toBe(true);
    const placed = mskPermissionsFor(serviceAccessFor('fraud-service'), cluster).get(
      'arn:aws:kafka:eu-west-1:123456789012:topic/securecart/abc-1/orders.order-placed.v1',
    );
    expect(placed).toEqual(['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData']);
  });

  it('gives S3 and KMS only to services with lake prefixes, scoped to those prefixes', () => {
    const sink = iamPolicyStatementsFor(serviceAccessFor('s3-sink'), cluster, lake);
    expect(sink.find((s) => s.Sid === 'S3SinkLakeObjects')?.Resource).toEqual([
      'arn:aws:s3:::securecart-lake/raw/*',
      'arn:aws:s3:::securecart-lake/curated/*',
    ]);
    expect(sink.find((s) => s.Sid === 'S3SinkLakeList')?.Condition).toEqual({ StringLike: { 's3:prefix': ['raw/*', 'curated/*'] } });
    for (const service of ['order-service', 'inventory-service', 'fraud-service', 'clickstream-collector']) {
      const actions = iamPolicyStatementsFor(serviceAccessFor(service), cluster, lake).flatMap((s) => s.Action);
      expect(actions.filter((a) => !a.startsWith('kafka-cluster:'))).toEqual([]);
    }
    expect(() => iamPolicyStatementsFor(serviceAccessFor('file-ingest'), cluster)).toThrow(/LakeRef is required/);
  });
});
