/**
 * Least privilege on the real broker's SASL listener (the PLAINTEXT one is a super user): after
 * `acl:apply`, every service principal can do exactly its work and is refused its neighbours'.
 * Records written here are in aborted transactions, so no read_committed consumer (the services, the
 * sink) ever sees them on the shared catalog topics; groups and transactional ids are unique per run.
 */
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type AclEntry, type Kafka } from 'kafkajs';
import { loadConfig } from '@app/config';
import { allTopics, catalogLayout, serviceAccess, serviceAccessFor } from '@app/contracts';
import { applyTopics, classifyKafkaError, createKafkaClient, kafkaErrorTypes } from '@app/kafka';
import { createLogger } from '@app/logging';
import { uniqueName, waitFor } from '@app/testing';
import { applyAccess } from './access-apply';
import { localSasl, localServiceEnv } from './local-principals';

/** kafkajs' own log lines of every client, kept for assertions (and out of the test output). */
const clientLog: string[] = [];

function clientFor(service: string, env: Record<string, string> = localServiceEnv(service)): Kafka {
  const config = loadConfig(env, { service, defaultHttpPort: 0 });
  const logger = createLogger({ service }, 'warn', (line) => void clientLog.push(line));
  return createKafkaClient({ ...config.kafka, clientId: uniqueName(service) }, logger);
}

const superUser = () => createKafkaClient(loadConfig({}, { service: 'acl-e2e', defaultHttpPort: 0 }).kafka);
const adminUser = () =>
  clientFor('acl-e2e', {
    KAFKA_AUTH: 'scram',
    KAFKA_BROKERS: localSasl.brokers.join(','),
    KAFKA_SASL_USERNAME: localSasl.admin.username,
    KAFKA_SASL_PASSWORD: localSasl.admin.password,
  });

/** A service that is not this one, to be refused its resources. */
function neighbourOf(service: string): string {
  const names = serviceAccess.map((a) => a.service);
  return names[(names.indexOf(service) + 1) % names.length];
}

async function errorOf(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the broker to refuse this');
}

beforeAll(async () => {
  const admin = superUser().admin();
  await admin.connect();
  try {
    await applyTopics(admin, catalogLayout());
  } finally {
    await admin.disconnect();
  }
  await applyAccess();
});

beforeEach(() => {
  clientLog.length = 0;
});

describe('npm run acl:apply', () => {
  it('is idempotent and removes ACLs the data no longer defines, only for the principals it manages', async () => {
    const admin = adminUser().admin();
    await admin.connect();
    const stale: AclEntry = {
      resourceType: AclResourceTypes.TOPIC,
      resourceName: uniqueName('acl-stale'),
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: 'User:fraud-service',
      host: '*',
      operation: AclOperationTypes.READ,
      permissionType: AclPermissionTypes.ALLOW,
    };
    const foreign: AclEntry = { ...stale, principal: `User:${uniqueName('not-managed')}` };
    try {
      await admin.createAcls({ acl: [stale, foreign] });
      const report = await applyAccess();
      expect(report.usersCreated).toEqual([]);
      expect(report.acls.create).toEqual([]);
      expect(report.acls.remove).toEqual([stale]);
      const left = await admin.describeAcls({ ...stale, principal: undefined, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
      expect(left.resources.flatMap((r) => r.acls.map((a) => a.principal))).toEqual([foreign.principal]);
      const again = await applyAccess();
      expect([again.acls.create.length, again.acls.remove.length]).toEqual([0, 0]);
    } finally {
      await admin.deleteAcls({ filters: [foreign] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});

describe.each(serviceAccess.map((a) => a.service))('principal %s', (service) => {
  const access = serviceAccessFor(service);

  it('writes its topics and DLQs in a transaction with offsets, reads its topics in its groups, creates its internal topics', async () => {
    const kafka = clientFor(service);
    const run = uniqueName('acl');
    const internalTopic = `${service}.${run}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ transactionalId: `${service}.${run}`, idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId: `${service}.${run}`, maxWaitTimeInMs: 100 });
    await Promise.all([admin.connect(), producer.connect()]);
    try {
      await admin.createTopics({ topics: [{ topic: internalTopic, numPartitions: 1 }], waitForLeaders: true });
      await admin.createPartitions({ topicPartitions: [{ topic: internalTopic, count: 2 }] });
      if (access.consumes.length > 0) {
        // Its main group (not joined here: a running instance of the service may be using it).
        await admin.fetchOffsets({ groupId: service, topics: [access.consumes[0].name] });
      }
      const targets = [...access.produces.map((t) => t.name), ...access.consumes.map((t) => t.dlq), internalTopic];
      const tx = await producer.transaction();
      await tx.sendBatch({ topicMessages: targets.map((topic) => ({ topic, messages: [{ key: run, value: 'acl test, aborted' }] })) });
      if (access.consumes.length > 0) {
        await tx.sendOffsets({ consumerGroupId: `${service}.${run}`, topics: [{ topic: access.consumes[0].name, partitions: [{ partition: 0, offset: '0' }] }] });
      }
      await tx.abort();

      const readable = [...access.consumes.map((t) => t.name), internalTopic];
      let fetched = 0;
      let crash: Error | undefined;
      consumer.on(consumer.events.FETCH, () => void (fetched += 1));
      consumer.on(consumer.events.CRASH, (e) => void (crash = e.payload.error));
      await consumer.connect();
      await consumer.subscribe({ topics: readable });
      await consumer.run({ eachMessage: async () => undefined });
      await waitFor(() => {
        if (crash) throw crash;
        return fetched > 0;
      }, { what: `${service} fetching ${readable.length} topics`, timeoutMs: 30_000 });
      expect(crash).toBeUndefined();
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
      // Services may not delete topics; the super user cleans up.
      const cleaner = superUser().admin();
      await cleaner.connect();
      await cleaner.deleteTopics({ topics: [internalTopic] }).catch(() => undefined);
      await cleaner.disconnect();
    }
  });

  it("is refused a neighbour's topics, group, transactional id and internal topics", async () => {
    const neighbour = neighbourOf(service);
    const kafka = clientFor(service);
    const run = uniqueName('acl');
    const foreignTopic = allTopics.find((t) => !access.produces.includes(t))!.name;
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([admin.connect(), producer.connect()]);
    try {
      const write = await errorOf(() => producer.send({ topic: foreignTopic, messages: [{ value: 'must not land' }] }));
      expect(classifyKafkaError(write)).toBe('authorization');
      expect(kafkaErrorTypes(write)).toEqual(['TOPIC_AUTHORIZATION_FAILED']);
      // kafkajs reports a refused FindCoordinator as "coordinator not found" without the broker's code;
      // committing offsets for the neighbour's group inside our own transaction surfaces it directly.
      const ownTx = kafka.producer({ transactionalId: `${service}.${run}`, idempotent: true, maxInFlightRequests: 1 });
      await ownTx.connect();
      const group = await errorOf(async () => {
        const tx = await ownTx.transaction();
        try {
          await tx.sendOffsets({ consumerGroupId: neighbour, topics: [{ topic: allTopics[0].name, partitions: [{ partition: 0, offset: '0' }] }] });
        } finally {
          await tx.abort().catch(() => undefined);
        }
      });
      await ownTx.disconnect();
      expect(classifyKafkaError(group)).toBe('authorization');
      expect(kafkaErrorTypes(group)).toEqual(['GROUP_AUTHORIZATION_FAILED']);
      await expect(admin.fetchOffsets({ groupId: neighbour, topics: [] })).rejects.toThrow(/group coordinator/i);
      expect(clientLog.join('\n')).toMatch(/Group authorization failed/);
      // Not even visible (no Describe, hence no Read): the neighbour's internal topics, and catalog
      // topics the service neither reads nor writes.
      const unrelated = allTopics.filter((t) => !access.consumes.includes(t) && !access.produces.includes(t)).map((t) => t.name);
      for (const topic of [`${neighbour}.order-state`, ...unrelated.slice(0, 1)]) {
        const read = await errorOf(() => admin.fetchTopicMetadata({ topics: [topic] }));
        expect([topic, kafkaErrorTypes(read)]).toEqual([topic, ['TOPIC_AUTHORIZATION_FAILED']]);
      }
      const create = await errorOf(() => admin.createTopics({ topics: [{ topic: `${neighbour}.${run}`, numPartitions: 1 }] }));
      expect(classifyKafkaError(create)).toBe('authorization');
      expect(kafkaErrorTypes(create)).toEqual(['TOPIC_AUTHORIZATION_FAILED']);
      const txProducer = kafka.producer({ transactionalId: `${neighbour}.${run}`, idempotent: true, maxInFlightRequests: 1 });
      const txn = await errorOf(async () => {
        await txProducer.connect();
        await txProducer.transaction();
      });
      await txProducer.disconnect();
      // Refused FindCoordinator: kafkajs drops the broker's code from the error, but logs it.
      expect(txn.name).toBe('KafkaJSGroupCoordinatorNotFound');
      expect(clientLog.join('\n')).toMatch(/Transactional Id authorization failed/);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});

describe('refusals are final and say why', () => {
  it('fraud-service writing to an orders topic gets TOPIC_AUTHORIZATION_FAILED quickly, not retried forever', async () => {
    const producer = clientFor('fraud-service').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const err = await errorOf(() => producer.send({ topic: 'orders.order-confirmed.v1', messages: [{ value: 'forged confirmation' }] }));
      expect(classifyKafkaError(err)).toBe('authorization');
      expect(kafkaErrorTypes(err)).toEqual(['TOPIC_AUTHORIZATION_FAILED']);
      expect(err.message).toMatch(/Not authorized to access topics: \[Topic authorization failed\]/);
    } finally {
      await producer.disconnect();
    }
  });

  it('the sink cannot write domain topics', async () => {
    const producer = clientFor('s3-sink').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (const topic of ['orders.order-placed.v1', 'inventory.stock-level.v1', 'fraud.fraud-assessed.v1']) {
        expect(classifyKafkaError(await errorOf(() => producer.send({ topic, messages: [{ value: 'x' }] })))).toBe('authorization');
      }
    } finally {
      await producer.disconnect();
    }
  });
});
