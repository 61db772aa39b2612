/**
 * The exact permissions generated for one service, spelled out: the Kafka ACL grants `npm run acl:apply`
 * creates and the IAM policy infra/cdk attaches to the service's role. A made-up service keeps these
 * independent of the catalog's growth; access.spec.ts checks the real services against the conventions.
 */
import { iamActionsFor, iamPolicyStatementsFor, mskClusterArn, mskResourceArn } from './access-iam';
import { CLUSTER_RESOURCE_NAME, kafkaGrantsFor, serviceAccess, type KafkaGrant, type ServiceAccess } from './access';

const cluster = { partition: 'aws', region: 'eu-west-1', account: '123456789012', clusterName: 'securecart', clusterUuid: 'abc-1' };
const lake = { bucketArn: 'arn:aws:s3:::securecart-lake', kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k1' };
const ARN = 'arn:aws:kafka:eu-west-1:123456789012';

const demo: ServiceAccess = {
  service: 'demo-service',
  description: 'Makes and sells things.',
  consumes: [{ name: 'shop.thing-made.v1', dlq: 'shop.thing-made.v1.dlq' }],
  produces: [{ name: 'shop.thing-sold.v1', dlq: 'shop.thing-sold.v1.dlq' }],
  lakePrefixes: ['raw/', 'files/'],
};

const grant = (resourceType: KafkaGrant['resourceType'], operations: KafkaGrant['operations']): KafkaGrant => ({
  resourceType,
  patternType: 'literal',
  name: 'x',
  operations,
  reason: 'test',
});

describe('Kafka grants of a service', () => {
  it('are its topics, its DLQs, its prefixed internal resources and idempotent writes, each with its reason', () => {
    expect(kafkaGrantsFor(demo)).toEqual([
      { resourceType: 'topic', patternType: 'literal', name: 'shop.thing-made.v1', operations: ['Read', 'Describe'], reason: 'consumes' },
      { resourceType: 'topic', patternType: 'literal', name: 'shop.thing-sold.v1', operations: ['Write', 'Describe'], reason: 'produces' },
      {
        resourceType: 'topic',
        patternType: 'literal',
        name: 'shop.thing-made.v1.dlq',
        operations: ['Write', 'Describe'],
        reason: 'dead-letters shop.thing-made.v1',
      },
      {
        resourceType: 'topic',
        patternType: 'prefixed',
        name: 'demo-service.',
        operations: ['Create', 'Read', 'Write', 'Describe', 'DescribeConfigs', 'AlterConfigs', 'Alter'],
        reason: expect.stringContaining('internal topics'),
      },
      { resourceType: 'group', patternType: 'literal', name: 'demo-service', operations: ['Read', 'Describe'], reason: expect.stringContaining('consumer group') },
      { resourceType: 'group', patternType: 'prefixed', name: 'demo-service.', operations: ['Read', 'Describe'], reason: expect.stringContaining('consumer groups') },
      {
        resourceType: 'transactional-id',
        patternType: 'prefixed',
        name: 'demo-service.',
        operations: ['Write', 'Describe'],
        reason: expect.stringContaining('transactions'),
      },
      { resourceType: 'cluster', patternType: 'literal', name: 'kafka-cluster', operations: ['IdempotentWrite'], reason: expect.stringContaining('idempotent') },
    ]);
  });

  it('name the cluster resource as Kafka does (its ACLs only match `kafka-cluster`)', () => {
    expect(CLUSTER_RESOURCE_NAME).toBe('kafka-cluster');
  });

  it('are explained: every service and every grant says why (acl:apply prints it, CDK puts it in the role description)', () => {
    for (const access of serviceAccess) {
      expect([access.service, access.description.trim().length > 0]).toEqual([access.service, true]);
      for (const g of kafkaGrantsFor(access)) expect([access.service, g.name, g.reason.trim().length > 0]).toEqual([access.service, g.name, true]);
    }
  });
});

describe('MSK IAM actions per Kafka operation', () => {
  // AWS's table of the IAM actions equivalent to each Kafka ACL (MSK developer guide, "IAM access control").
  it.each([
    ['topic', 'Read', ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData']],
    ['topic', 'Write', ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData']],
    ['topic', 'Describe', ['kafka-cluster:DescribeTopic']],
    ['topic', 'Create', ['kafka-cluster:CreateTopic']],
    ['topic', 'DescribeConfigs', ['kafka-cluster:DescribeTopicDynamicConfiguration']],
    ['topic', 'AlterConfigs', ['kafka-cluster:AlterTopicDynamicConfiguration']],
    ['topic', 'Alter', ['kafka-cluster:AlterTopic']],
    ['group', 'Read', ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup']],
    ['group', 'Describe', ['kafka-cluster:DescribeGroup']],
    ['transactional-id', 'Write', ['kafka-cluster:AlterTransactionalId', 'kafka-cluster:DescribeTransactionalId']],
    ['transactional-id', 'Describe', ['kafka-cluster:DescribeTransactionalId']],
    ['cluster', 'IdempotentWrite', ['kafka-cluster:WriteDataIdempotently']],
  ] as const)('%s %s → %j (sorted)', (resourceType, operation, actions) => {
    expect(iamActionsFor(grant(resourceType, [operation]))).toEqual(actions);
  });

  it('merges the actions of several operations once each', () => {
    expect(iamActionsFor(grant('topic', ['Write', 'Read', 'Describe']))).toEqual([
      'kafka-cluster:DescribeTopic',
      'kafka-cluster:ReadData',
      'kafka-cluster:WriteData',
    ]);
  });

  it('refuses an operation IAM cannot express rather than silently granting nothing', () => {
    expect(() => iamActionsFor(grant('group', ['Write']))).toThrow('no MSK IAM action for Write on group');
    expect(() => iamActionsFor(grant('cluster', ['Read']))).toThrow('no MSK IAM action for Read on cluster');
  });

  it('builds resource ARNs per resource type; the cluster grant is the cluster ARN itself', () => {
    expect(mskClusterArn(cluster)).toBe(`${ARN}:cluster/securecart/abc-1`);
    const arn = (g: Pick<KafkaGrant, 'resourceType' | 'patternType' | 'name'>) => mskResourceArn(cluster, g);
    expect(arn({ resourceType: 'topic', patternType: 'literal', name: 'a.b.v1' })).toBe(`${ARN}:topic/securecart/abc-1/a.b.v1`);
    expect(arn({ resourceType: 'group', patternType: 'prefixed', name: 'svc.' })).toBe(`${ARN}:group/securecart/abc-1/svc.*`);
    expect(arn({ resourceType: 'transactional-id', patternType: 'prefixed', name: 'svc.' })).toBe(`${ARN}:transactional-id/securecart/abc-1/svc.*`);
    expect(arn({ resourceType: 'cluster', patternType: 'literal', name: CLUSTER_RESOURCE_NAME })).toBe(`${ARN}:cluster/securecart/abc-1`);
  });
});

describe('IAM policy of a service role', () => {
  it('is one statement per distinct Kafka action set, then the lake objects, listing and key', () => {
    expect(iamPolicyStatementsFor(demo, cluster, lake)).toEqual([
      {
        Sid: 'DemoServiceKafka1',
        Effect: 'Allow',
        Action: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'],
        Resource: [`${ARN}:cluster/securecart/abc-1`],
      },
      {
        Sid: 'DemoServiceKafka2',
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        Resource: [`${ARN}:topic/securecart/abc-1/shop.thing-made.v1`],
      },
      {
        Sid: 'DemoServiceKafka3',
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
        Resource: [`${ARN}:topic/securecart/abc-1/shop.thing-sold.v1`, `${ARN}:topic/securecart/abc-1/shop.thing-made.v1.dlq`],
      },
      {
        Sid: 'DemoServiceKafka4',
        Effect: 'Allow',
        Action: [
          'kafka-cluster:AlterTopic',
          'kafka-cluster:AlterTopicDynamicConfiguration',
          'kafka-cluster:CreateTopic',
          'kafka-cluster:DescribeTopic',
          'kafka-cluster:DescribeTopicDynamicConfiguration',
          'kafka-cluster:ReadData',
          'kafka-cluster:WriteData',
        ],
        Resource: [`${ARN}:topic/securecart/abc-1/demo-service.*`],
      },
      {
        Sid: 'DemoServiceKafka5',
        Effect: 'Allow',
        Action: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
        Resource: [`${ARN}:group/securecart/abc-1/demo-service`, `${ARN}:group/securecart/abc-1/demo-service.*`],
      },
      {
        Sid: 'DemoServiceKafka6',
        Effect: 'Allow',
        Action: ['kafka-cluster:AlterTransactionalId', 'kafka-cluster:DescribeTransactionalId'],
        Resource: [`${ARN}:transactional-id/securecart/abc-1/demo-service.*`],
      },
      {
        Sid: 'DemoServiceLakeObjects',
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
        Resource: ['arn:aws:s3:::securecart-lake/raw/*', 'arn:aws:s3:::securecart-lake/files/*'],
      },
      {
        Sid: 'DemoServiceLakeList',
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: ['arn:aws:s3:::securecart-lake'],
        Condition: { StringLike: { 's3:prefix': ['raw/*', 'files/*'] } },
      },
      {
        Sid: 'DemoServiceLakeKey',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: ['arn:aws:kms:eu-west-1:123456789012:key/k1'],
      },
    ]);
  });

  it('has no lake statements for a service without lake prefixes, and needs no LakeRef then', () => {
    const statements = iamPolicyStatementsFor({ ...demo, lakePrefixes: [] }, cluster);
    expect(statements.map((s) => s.Sid)).toEqual(['DemoServiceKafka1', 'DemoServiceKafka2', 'DemoServiceKafka3', 'DemoServiceKafka4', 'DemoServiceKafka5', 'DemoServiceKafka6']);
  });

  it('refuses to build a lake policy without the bucket and key', () => {
    expect(() => iamPolicyStatementsFor(demo, cluster)).toThrow('demo-service writes to the lake: a LakeRef is required');
  });

  it('turns any service name into a valid IAM Sid (alphanumeric, words capitalised)', () => {
    const sids = iamPolicyStatementsFor({ ...demo, service: 's3-sink_v2..x' }, cluster, lake).map((s) => s.Sid);
    expect(sids[0]).toBe('S3SinkV2XKafka1');
    for (const sid of sids) expect(sid).toMatch(/^[A-Za-z0-9]+$/);
  });
});
