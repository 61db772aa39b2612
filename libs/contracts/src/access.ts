import { allTopics, topics, type TopicDefinition } from './topic-catalog';

/**
 * Who may do what on Kafka and in the lake, defined once. Local SCRAM ACLs (`npm run acl:apply`) and the
 * AWS IAM policies (infra/cdk) are both generated from this data, so they cannot drift apart.
 *
 * Conventions every service follows (docs/ARCHITECTURE.md): its consumer group is its name, extra groups,
 * transactional ids and internal topics start with `<service>.`, and it writes `<topic>.dlq` for every
 * catalog topic it consumes.
 */
/** What access needs to know of a catalog topic. */
export type AccessTopic = Pick<TopicDefinition, 'name' | 'dlq'>;

export interface ServiceAccess {
  /** Service name = Kafka principal name (`User:<service>` locally, role `securecart-<service>` on AWS). */
  readonly service: string;
  readonly description: string;
  /** Catalog topics it reads (and therefore dead-letters). */
  readonly consumes: readonly AccessTopic[];
  /** Catalog topics it writes. */
  readonly produces: readonly AccessTopic[];
  /** Lake key prefixes it reads and writes (S3 on AWS), e.g. `raw/`. */
  readonly lakePrefixes: readonly string[];
  /** Another service's internal command topics it writes (that service's documented input), e.g. stock counts. */
  readonly commandTopics?: readonly string[];
}

const orderTopics: AccessTopic[] = [topics.orderPlaced, topics.orderConfirmed, topics.orderRejected, topics.orderCancelled];
const inventoryTopics: AccessTopic[] = [topics.stockLevel, topics.stockReserved, topics.stockReservationRejected, topics.stockReleased];

export const serviceAccess: readonly ServiceAccess[] = [
  {
    service: 'order-service',
    description: 'Takes orders over HTTP and decides them from the stock and fraud validations (fan-in).',
    consumes: [topics.orderPlaced, topics.stockReserved, topics.stockReservationRejected, topics.fraudAssessed],
    produces: orderTopics,
    lakePrefixes: [],
  },
  {
    service: 'inventory-service',
    description: 'Reserves and releases stock for orders; publishes stock levels.',
    // Plus its own stock levels: every instance tails them into a read model.
    consumes: [...orderTopics, topics.stockLevel],
    produces: inventoryTopics,
    lakePrefixes: [],
  },
  {
    service: 'fraud-service',
    description: 'Scores placed orders.',
    consumes: [topics.orderPlaced],
    produces: [topics.fraudAssessed],
    lakePrefixes: [],
  },
  {
    service: 's3-sink',
    description: 'Lands every catalog topic in the lake (raw segments, then curated files).',
    consumes: allTopics,
    produces: [],
    lakePrefixes: ['raw/', 'curated/'],
  },
  {
    service: 'clickstream-collector',
    description: 'Accepts batches of web and app interactions.',
    consumes: [],
    produces: [topics.clickstream],
    lakePrefixes: [],
  },
  {
    service: 'file-ingest',
    description: 'Ingests warehouse files into the lake incrementally; inventory CSV rows become stock counts.',
    consumes: [],
    produces: [],
    lakePrefixes: ['files/'],
    // The input of PUT /stock/:sku: counts go to the SKU's single writer like the HTTP ones.
    commandTopics: ['inventory-service.sku-requests'],
  },
  {
    service: 'partner-sftp',
    description: 'SFTP drop for payment partners: stores each upload in the lake and announces it.',
    consumes: [],
    produces: [topics.partnerFileReceived],
    lakePrefixes: ['partners/'],
  },
  {
    service: 'daily-batch',
    description: 'Builds the daily batch tables from the curated order topics and announces each run.',
    consumes: [],
    produces: [topics.batchCompleted],
    // Reads raw/ (hour manifests: is the day compacted?) and curated/; writes only batch/ (tables, run history).
    lakePrefixes: ['raw/', 'curated/', 'batch/'],
  },
];

export type KafkaResourceType = 'topic' | 'group' | 'transactional-id' | 'cluster';
export type KafkaPatternType = 'literal' | 'prefixed';
/** Kafka ACL operations (the IAM actions are derived from these in access-iam.ts). */
export type KafkaOperation =
  | 'Read'
  | 'Write'
  | 'Describe'
  | 'Create'
  | 'DescribeConfigs'
  | 'AlterConfigs'
  | 'Alter'
  | 'IdempotentWrite';

/** One allow rule: a principal may run these operations on resources matching name and pattern. */
export interface KafkaGrant {
  readonly resourceType: KafkaResourceType;
  readonly patternType: KafkaPatternType;
  /** Resource name, or its prefix for `prefixed`; `kafka-cluster` for the cluster. */
  readonly name: string;
  readonly operations: readonly KafkaOperation[];
  /** Why the service needs it, for reviews and `acl:apply` output. */
  readonly reason: string;
}

export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';

/** The prefix every group (besides the main one), transactional id and internal topic of a service has. */
export function servicePrefix(service: string): string {
  return `${service}.`;
}

/** Every Kafka permission the service needs, and nothing else. */
export function kafkaGrantsFor(access: ServiceAccess): KafkaGrant[] {
  const prefix = servicePrefix(access.service);
  const grants: KafkaGrant[] = [];
  for (const t of access.consumes) {
    grants.push({ resourceType: 'topic', patternType: 'literal', name: t.name, operations: ['Read', 'Describe'], reason: 'consumes' });
  }
  for (const t of access.produces) {
    grants.push({ resourceType: 'topic', patternType: 'literal', name: t.name, operations: ['Write', 'Describe'], reason: 'produces' });
  }
  for (const t of access.consumes) {
    grants.push({ resourceType: 'topic', patternType: 'literal', name: t.dlq, operations: ['Write', 'Describe'], reason: `dead-letters ${t.name}` });
  }
  for (const name of access.commandTopics ?? []) {
    grants.push({ resourceType: 'topic', patternType: 'literal', name, operations: ['Write', 'Describe'], reason: 'sends commands to the owning service' });
  }
  grants.push(
    {
      resourceType: 'topic',
      patternType: 'prefixed',
      name: prefix,
      operations: ['Create', 'Read', 'Write', 'Describe', 'DescribeConfigs', 'AlterConfigs', 'Alter'],
      reason: 'creates, grows and uses its internal topics (changelogs, commands, control)',
    },
    { resourceType: 'group', patternType: 'literal', name: access.service, operations: ['Read', 'Describe'], reason: 'its consumer group' },
    { resourceType: 'group', patternType: 'prefixed', name: prefix, operations: ['Read', 'Describe'], reason: 'its extra consumer groups' },
    {
      resourceType: 'transactional-id',
      patternType: 'prefixed',
      name: prefix,
      operations: ['Write', 'Describe'],
      reason: 'transactions (consume-transform-produce, exactly-once landing)',
    },
    {
      resourceType: 'cluster',
      patternType: 'literal',
      name: CLUSTER_RESOURCE_NAME,
      operations: ['IdempotentWrite'],
      reason: 'idempotent producer (acks=all, no duplicates on retry)',
    },
  );
  return grants;
}

export function serviceAccessFor(service: string): ServiceAccess {
  const access = serviceAccess.find((a) => a.service === service);
  if (!access) throw new Error(`no access defined for service "${service}"`);
  return access;
}
