import { kafkaGrantsFor, type KafkaGrant, type KafkaOperation, type KafkaResourceType, type ServiceAccess } from './access';

/** The parts of an MSK cluster ARN (strings or CDK tokens): `arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>`. */
export interface MskClusterRef {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly clusterName: string;
  readonly clusterUuid: string;
}

/** The lake bucket and its KMS key (strings or CDK tokens). */
export interface LakeRef {
  readonly bucketArn: string;
  readonly kmsKeyArn: string;
}

export interface IamStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: Record<string, Record<string, string[]>>;
}

const IAM_RESOURCE: Record<KafkaResourceType, string> = {
  topic: 'topic',
  group: 'group',
  'transactional-id': 'transactional-id',
  cluster: 'cluster',
};

/** MSK IAM actions equivalent to each Kafka ACL operation, per resource type. */
const IAM_ACTIONS: Record<KafkaResourceType, Partial<Record<KafkaOperation, string[]>>> = {
  topic: {
    Read: ['kafka-cluster:ReadData', 'kafka-cluster:DescribeTopic'],
    Write: ['kafka-cluster:WriteData', 'kafka-cluster:DescribeTopic'],
    Describe: ['kafka-cluster:DescribeTopic'],
    Create: ['kafka-cluster:CreateTopic'],
    DescribeConfigs: ['kafka-cluster:DescribeTopicDynamicConfiguration'],
    AlterConfigs: ['kafka-cluster:AlterTopicDynamicConfiguration'],
    // Adding partitions (CreatePartitions) is Alter on the topic.
    Alter: ['kafka-cluster:AlterTopic'],
  },
  group: {
    Read: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
    Describe: ['kafka-cluster:DescribeGroup'],
  },
  'transactional-id': {
    Write: ['kafka-cluster:AlterTransactionalId', 'kafka-cluster:DescribeTransactionalId'],
    Describe: ['kafka-cluster:DescribeTransactionalId'],
  },
  cluster: {
    IdempotentWrite: ['kafka-cluster:WriteDataIdempotently'],
  },
};

export function mskClusterArn(c: MskClusterRef): string {
  return `arn:${c.partition}:kafka:${c.region}:${c.account}:cluster/${c.clusterName}/${c.clusterUuid}`;
}

/** The ARN a grant covers; a prefixed grant ends in `*`, which matches only names with that prefix. */
export function mskResourceArn(c: MskClusterRef, grant: Pick<KafkaGrant, 'resourceType' | 'patternType' | 'name'>): string {
  if (grant.resourceType === 'cluster') return mskClusterArn(c);
  const suffix = grant.patternType === 'prefixed' ? '*' : '';
  return `arn:${c.partition}:kafka:${c.region}:${c.account}:${IAM_RESOURCE[grant.resourceType]}/${c.clusterName}/${c.clusterUuid}/${grant.name}${suffix}`;
}

/** The IAM actions a grant amounts to. Throws on an operation with no IAM equivalent (a data bug). */
export function iamActionsFor(grant: KafkaGrant): string[] {
  const actions = new Set<string>();
  for (const op of grant.operations) {
    const mapped = IAM_ACTIONS[grant.resourceType][op];
    if (!mapped) throw new Error(`no MSK IAM action for ${op} on ${grant.resourceType}`);
    for (const a of mapped) actions.add(a);
  }
  return [...actions].sort();
}

/** Resource ARN → IAM actions, exactly what the service's Kafka grants allow (plus Connect). */
export function mskPermissionsFor(access: ServiceAccess, cluster: MskClusterRef): Map<string, string[]> {
  const permissions = new Map<string, Set<string>>([[mskClusterArn(cluster), new Set(['kafka-cluster:Connect'])]]);
  for (const grant of kafkaGrantsFor(access)) {
    const arn = mskResourceArn(cluster, grant);
    const set = permissions.get(arn) ?? new Set<string>();
    for (const a of iamActionsFor(grant)) set.add(a);
    permissions.set(arn, set);
  }
  return new Map([...permissions].map(([arn, set]) => [arn, [...set].sort()]));
}

function sid(text: string): string {
  return text.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_, __, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '');
}

/**
 * The service role's policy statements: Kafka actions on exactly the topic, group and transactional-id
 * ARNs its grants name (one statement per distinct action set), and for services with lake prefixes,
 * object actions under those prefixes, listing limited to them, and the lake key for SSE-KMS.
 */
export function iamPolicyStatementsFor(access: ServiceAccess, cluster: MskClusterRef, lake?: LakeRef): IamStatement[] {
  const byActions = new Map<string, string[]>();
  for (const [arn, actions] of mskPermissionsFor(access, cluster)) {
    const key = actions.join(',');
    byActions.set(key, [...(byActions.get(key) ?? []), arn]);
  }
  const statements: IamStatement[] = [...byActions].map(([actions, resources], i) => ({
    Sid: `Kafka${i + 1}`,
    Effect: 'Allow',
    Action: actions.split(','),
    Resource: resources,
  }));
  if (access.lakePrefixes.length > 0) {
    if (!lake) throw new Error(`${access.service} writes to the lake: a LakeRef is required`);
    statements.push(
      {
        Sid: 'LakeObjects',
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
        Resource: access.lakePrefixes.map((p) => `${lake.bucketArn}/${p}*`),
      },
      {
        Sid: 'LakeList',
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: [lake.bucketArn],
        Condition: { StringLike: { 's3:prefix': access.lakePrefixes.map((p) => `${p}*`) } },
      },
      {
        Sid: 'LakeKey',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: [lake.kmsKeyArn],
      },
    );
  }
  return statements.map((s) => ({ ...s, Sid: sid(`${access.service} ${s.Sid}`) }));
}
