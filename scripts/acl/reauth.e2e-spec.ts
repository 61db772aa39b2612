/**
 * SCRAM re-authentication (KIP-368) under load, on a private broker this test starts and stops itself
 * (its own state folder and ports; the shared stack is never touched), with the SCRAM listener's
 * `connections.max.reauth.ms` set low through infra/local/stack.sh. The broker ends a session after
 * REAUTH_MS; kafkajs re-authenticates an open connection before it sends a request once the session is
 * within 10 s of its end, so every connection that keeps working re-authenticates again and again.
 *
 * For two minutes a plain idempotent producer writes numbered records, the runtime (the services'
 * consume-transform-produce, one Kafka transaction per batch) copies them to an output topic, and a
 * read_committed consumer reads that: every number arrives exactly once, none lost, none twice. All of it
 * runs as a non-super-user principal whose ACLs the broker checks on every request.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes, type LogEntry } from 'kafkajs';
import { Registry } from 'prom-client';
import { createSchemaRegistry, RegistryCodec } from '@app/codec';
import { kafkaDefaults } from '@app/kafka';
import { createLogger } from '@app/logging';
import { KafkaRuntime, type HandlerContext, type KafkaRuntimeOptions } from '@app/runtime';
import { uniqueName, waitFor } from '@app/testing';
import { freePort, ROOT } from '../../test/support/service-process';

jest.setTimeout(240_000);

const STACK_SH = join(ROOT, 'infra/local/stack.sh');
/** Session lifetime on the private broker; kafkajs re-authenticates from 10 s before its end, so every ~10 s. */
const REAUTH_MS = 20_000;
/** The issue asks for a run of at least two minutes. */
const RUN_MS = 120_000;
/** Created by stack.sh when it formats the broker's storage; not a super user (admin is). */
const PRINCIPAL = { username: 'securecart-app', password: 'securecart-app-secret' };
const PREFIX = uniqueName('reauth');

let state: string;
let stackEnv: Record<string, string>;
let plaintext: string;
let sasl: string;

function stack(command: 'up' | 'down') {
  const result = spawnSync('bash', [STACK_SH, command], { cwd: ROOT, env: { ...process.env, ...stackEnv }, encoding: 'utf8', timeout: 150_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Every live process whose command line names `dir` (stack.sh's own notion of "ours"). */
function processesNaming(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Counts what kafkajs says about SASL on the private broker's SCRAM port, across every client. */
class SaslEvents {
  connects = 0;
  authentications = 0;
  closedByBroker = 0;

  get reauthentications(): number {
    // Each new socket authenticates once; every further success is a re-authentication of an open one.
    return this.authentications - this.connects;
  }

  readonly logCreator = () => (entry: LogEntry) => {
    const { message, broker } = entry.log as { message: string; broker?: string };
    if (broker !== sasl) return;
    if (message === 'Connecting') this.connects++;
    else if (/^SASL SCRAM .* authentication successful$/.test(message)) this.authentications++;
    else if (message === 'Kafka server has closed connection') this.closedByBroker++;
  };
}

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), 'reauth-stack-'));
  // The shared stack's downloads (read-only once complete) instead of fetching the jars again.
  symlinkSync(join(ROOT, '.local-stack/downloads'), join(state, 'downloads'));
  const [kafkaPort, controller, saslPort] = await Promise.all([freePort(), freePort(), freePort()]);
  plaintext = `127.0.0.1:${kafkaPort}`;
  sasl = `127.0.0.1:${saslPort}`;
  stackEnv = {
    STACK_STATE_DIR: state,
    STACK_COMPONENTS: 'kafka',
    LOCAL_KAFKA_PORT: String(kafkaPort),
    LOCAL_KAFKA_CONTROLLER_PORT: String(controller),
    LOCAL_KAFKA_SASL_PORT: String(saslPort),
    LOCAL_KAFKA_SASL_REAUTH_MS: String(REAUTH_MS),
  };
  const up = stack('up');
  if (up.status !== 0) throw new Error(`private broker did not start:\n${up.output}`);

  // The principal may use only this run's topics, group and transactional ids.
  const admin = new Kafka({ clientId: 'reauth-e2e-admin', brokers: [plaintext], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const allow = (resourceType: AclResourceTypes) => ({
    resourceType,
    resourceName: PREFIX,
    resourcePatternType: ResourcePatternTypes.PREFIXED,
    principal: `User:${PRINCIPAL.username}`,
    host: '*',
    operation: AclOperationTypes.ALL,
    permissionType: AclPermissionTypes.ALLOW,
  });
  await admin.createAcls({ acl: [allow(AclResourceTypes.TOPIC), allow(AclResourceTypes.GROUP), allow(AclResourceTypes.TRANSACTIONAL_ID)] });
  await admin.disconnect();
});

afterAll(() => {
  if (!state) return;
  stack('down');
  for (const pid of processesNaming(state)) process.kill(pid, 'SIGKILL');
  rmSync(state, { recursive: true, force: true }); // removes the downloads link, not its target
});

it('re-authenticates many times during a two-minute transactional run and loses or duplicates nothing', async () => {
  const events = new SaslEvents();
  const kafka = new Kafka({
    clientId: 'reauth-e2e',
    brokers: [sasl],
    sasl: { mechanism: 'scram-sha-512', ...PRINCIPAL },
    connectionTimeout: kafkaDefaults.connectionTimeoutMs,
    requestTimeout: kafkaDefaults.requestTimeoutMs,
    retry: { ...kafkaDefaults.retry },
    logLevel: logLevel.DEBUG,
    logCreator: events.logCreator,
  });
  const input = `${PREFIX}.numbers-in`;
  const output = `${PREFIX}.numbers-out`;
  // Created up front (the runtime then finds them), and visible to the principal before anything starts:
  // a broker that just started may answer metadata for a brand-new topic with UNKNOWN_TOPIC_OR_PARTITION.
  const setup = new Kafka({ clientId: 'reauth-e2e-setup', brokers: [plaintext], logLevel: logLevel.NOTHING }).admin();
  await setup.connect();
  await setup.createTopics({
    waitForLeaders: true,
    topics: [input, output, `${input}.dlq`].map((topic) => ({ topic, numPartitions: 3, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] })),
  });
  await setup.disconnect();
  const principalAdmin = kafka.admin();
  await principalAdmin.connect();
  await waitFor(async () => (await principalAdmin.fetchTopicMetadata({ topics: [input, output] })).topics.every((t) => t.partitions.length === 3), {
    timeoutMs: 30_000,
    what: 'topics visible to the principal',
  });
  await principalAdmin.disconnect();

  // The services' runtime: input batch → output records + offsets in one transaction per task.
  const runtime = new KafkaRuntime({
    kafka,
    codec: new RegistryCodec(createSchemaRegistry({ url: 'http://127.0.0.1:1' }), { autoRegister: false }), // JSON topics only
    service: PREFIX,
    logger: createLogger({ service: 'reauth-e2e' }, 'error'),
    metrics: new Registry(),
    internalTopics: [
      { name: input, partitions: 3 },
      { name: output, partitions: 3 },
    ],
    handlers: {
      [input]: (record: { key: string | null; value: { n: number } }, ctx: HandlerContext) => {
        ctx.emit({ topic: output, key: record.key ?? '', value: { n: record.value.n } });
      },
    },
    tuning: { consumer: { maxWaitTimeInMs: 200, sessionTimeoutMs: 15_000, heartbeatIntervalMs: 1_000 } },
  } as unknown as KafkaRuntimeOptions);
  await runtime.start();

  const seen = new Map<number, number>();
  const verifier = kafka.consumer({ groupId: `${PREFIX}.verify`, readUncommitted: false, maxWaitTimeInMs: 200 });
  await verifier.connect();
  await verifier.subscribe({ topics: [output], fromBeginning: true });
  await verifier.run({
    eachMessage: async ({ message }) => {
      const n = (JSON.parse(message.value!.toString()) as { n: number }).n;
      seen.set(n, (seen.get(n) ?? 0) + 1);
    },
  });

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let sent = 0;
  const until = Date.now() + RUN_MS;
  try {
    // Ten numbered records every 100 ms for two minutes, each send acknowledged before the next.
    while (Date.now() < until) {
      const messages = Array.from({ length: 10 }, (_, i) => ({ key: `k-${(sent + i) % 97}`, value: JSON.stringify({ n: sent + i }) }));
      await producer.send({ topic: input, acks: -1, messages });
      sent += messages.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await waitFor(() => seen.size >= sent, { timeoutMs: 60_000, intervalMs: 200, what: `all ${sent} numbers read back` });
  } finally {
    await Promise.all([producer.disconnect(), verifier.disconnect(), runtime.close()]);
  }

  const duplicated = [...seen].filter(([, count]) => count > 1).map(([n]) => n);
  const lost = Array.from({ length: sent }, (_, n) => n).filter((n) => !seen.has(n));
  expect({ sent, read: seen.size, lost: lost.slice(0, 10), duplicated: duplicated.slice(0, 10) }).toEqual({ sent, read: sent, lost: [], duplicated: [] });
  // Well over one re-authentication per ~10 s of one connection (each client keeps several busy).
  expect(events.reauthentications).toBeGreaterThanOrEqual(2 * Math.floor(RUN_MS / (REAUTH_MS / 2)));
  // Sessions were renewed on their connections, not ended by the broker.
  expect(events.closedByBroker).toBe(0);
  process.stdout.write(`reauth e2e: ${sent} records, ${events.connects} connections, ${events.reauthentications} re-authentications, ${events.closedByBroker} closed by the broker\n`);
});
