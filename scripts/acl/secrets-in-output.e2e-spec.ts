/**
 * Secrets never appear in logs, error messages or /metrics, checked by grepping what real service
 * processes print and serve: every service runs as its own SCRAM principal with a registry password and
 * AWS keys set, answers HTTP (including errors), and is stopped; a wrong Kafka password ends a service;
 * registry credentials embedded in an unreachable URL end up in readiness and error paths.
 */
import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { uniqueName, waitFor } from '@app/testing';
import { exited, freePort, mainOf, ROOT, startService, TS_NODE, type ServiceProcess } from '../../test/support/service-process';
import { localServiceEnv } from './local-principals';

jest.setTimeout(180_000);

// Unique per run, so a hit can only come from this run's processes.
const REGISTRY_PASSWORD = uniqueName('registry-password');
const AWS_SECRET = uniqueName('aws-secret-key');
const AWS_TOKEN = uniqueName('aws-session-token');
const S3_SECRET = uniqueName('s3-secret-key');
const WRONG_KAFKA_PASSWORD = uniqueName('wrong-kafka-password');
const URL_PASSWORD = uniqueName('url-password');

const SECRET_ENV = {
  SCHEMA_REGISTRY_USERNAME: 'registry-user',
  SCHEMA_REGISTRY_PASSWORD: REGISTRY_PASSWORD,
  AWS_ACCESS_KEY_ID: 'AKIDSECRETSTEST',
  AWS_SECRET_ACCESS_KEY: AWS_SECRET,
  AWS_SESSION_TOKEN: AWS_TOKEN,
  LOG_LEVEL: 'debug',
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
};

const withoutRegistryCredentials: Record<string, string> = Object.fromEntries(Object.entries(SECRET_ENV).filter(([k]) => !k.startsWith('SCHEMA_REGISTRY_')));

const SERVICES = ['order-service', 'inventory-service', 'fraud-service', 's3-sink'] as const;

/** Every secret value, and the services' own SCRAM passwords. */
function secrets(): string[] {
  return [REGISTRY_PASSWORD, AWS_SECRET, AWS_TOKEN, S3_SECRET, WRONG_KAFKA_PASSWORD, URL_PASSWORD, ...SERVICES.map((s) => localServiceEnv(s).KAFKA_SASL_PASSWORD)];
}

function leaks(text: string): string[] {
  return secrets().filter((secret) => text.includes(secret));
}

async function body(url: string, init?: RequestInit): Promise<string> {
  const res = await fetch(url, init);
  return `${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`;
}

/** Runs a service's main.ts until it exits by itself (or is killed after `timeoutMs`). */
function runToExit(service: string, env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return freePort().then(
    (port) =>
      new Promise((resolve) => {
        const child = spawn(TS_NODE[0], [...TS_NODE.slice(1), mainOf(service)], { cwd: ROOT, env: { ...process.env, ...env, HTTP_PORT: String(port) } });
        let output = '';
        child.stdout.on('data', (chunk) => (output += chunk));
        child.stderr.on('data', (chunk) => (output += chunk));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        void exited(child).then(() => {
          clearTimeout(timer);
          resolve({ code: child.exitCode, output });
        });
      }),
  );
}

describe('secrets in real output', () => {
  const procs: ServiceProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
  });

  it('stay out of every service\'s logs, /metrics, readiness and HTTP error answers while it runs as its own principal', async () => {
    // The sink lands an empty topic of its own (its principal may read `s3-sink.*`) into a prefix of its own,
    // in a group of its own: it neither competes with a running sink nor copies the catalog topics.
    const sinkTopic = uniqueName('s3-sink.secrets');
    const admin = new Kafka({ clientId: 'secrets-e2e', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: sinkTopic, numPartitions: 1 }] });
    await admin.disconnect();
    const sinkEnv = {
      S3_ACCESS_KEY_ID: 'securecart-local',
      S3_SECRET_ACCESS_KEY: S3_SECRET,
      SINK_TOPICS: sinkTopic,
      SINK_GROUP_ID: sinkTopic,
      LAKE_URL: `s3://${process.env.S3_BUCKET ?? 'securecart-lake'}/${uniqueName('secrets')}/`,
    };
    const started = await Promise.all(
      SERVICES.map((service) => startService(service, { ...SECRET_ENV, ...localServiceEnv(service), ...(service === 's3-sink' ? sinkEnv : {}) }, 120_000)),
    );
    procs.push(...started);
    const [order] = started;
    // Connected and authenticated as its principal: readiness says so for each.
    for (const p of started) {
      await waitFor(async () => (await fetch(`${p.baseUrl}/health/ready`)).status === 200, { timeoutMs: 60_000, what: `${p.baseUrl} ready` });
    }
    const answers: string[] = [];
    for (const p of started) {
      answers.push(await body(`${p.baseUrl}/metrics`), await body(`${p.baseUrl}/health/ready`), await body(`${p.baseUrl}/no-such-route`));
    }
    const post = (payload: string) => body(`${order.baseUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': uniqueName('k') }, body: payload });
    answers.push(await post('{"customerId": 1, "items": []}'), await post('{not json'), await body(`${order.baseUrl}/orders/00000000-0000-4000-8000-000000000000`));
    // The metrics mention the auth mode, so the scrape above is not an empty page.
    expect(answers.join('\n')).toContain('process_cpu_user_seconds_total');

    await Promise.all(procs.map((p) => p.stop()));
    const outputs = started.map((p) => p.output()).join('\n');
    // The secrets were loaded (and shown redacted), so their absence below is not for want of them.
    expect(outputs).toContain('"mode":"scram"');
    expect(outputs.split('"username":"registry-user","password":"***"').length - 1).toBeGreaterThanOrEqual(SERVICES.length);
    expect({ logs: leaks(outputs), http: leaks(answers.join('\n')) }).toEqual({ logs: [], http: [] });
  });

  it('stay out of the message a wrong Kafka password ends a service with', async () => {
    const { code, output } = await runToExit('inventory-service', { ...SECRET_ENV, ...localServiceEnv('inventory-service'), KAFKA_SASL_PASSWORD: WRONG_KAFKA_PASSWORD, KAFKA_AUTH_MAX_ATTEMPTS: '2' }, 90_000);
    expect(output).toMatch(/inventory-service: Kafka authentication failed for SCRAM-SHA-512 user "inventory-service"/);
    expect(code).toBe(77);
    expect(leaks(output)).toEqual([]);
  });

  it('stay out of readiness, error answers and logs when the registry URL carries credentials and cannot be reached', async () => {
    const closed = await freePort();
    const p = await startService('order-service', {
      ...withoutRegistryCredentials,
      ...localServiceEnv('order-service'),
      SCHEMA_REGISTRY_URL: `http://url-user:${URL_PASSWORD}@127.0.0.1:${closed}/apis/ccompat/v7`,
      ORDER_PUBLISH_TIMEOUT_MS: '2000',
    }, 120_000);
    procs.push(p);
    const answers = [await body(`${p.baseUrl}/health/ready`), await body(`${p.baseUrl}/metrics`)];
    const order = {
      customerId: 'c-1',
      currency: 'EUR',
      items: [{ sku: 'SKU-1', quantity: 1, unitPrice: '1.00' }],
      shippingCountry: 'DE',
      billingCountry: 'DE',
      payment: { type: 'CARD', fingerprint: 'fp-1' },
      channel: 'WEB',
      sessionId: 's-1',
    };
    // Placing an order needs the registry: the answer is an error, and so are the logs it leaves.
    const placed = await body(`${p.baseUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': uniqueName('k') }, body: JSON.stringify(order) });
    answers.push(placed);
    // The error paths ran: readiness names the registry, the POST got a 503 and left a warning with its cause.
    expect(answers[0]).toContain('"registry":{"ok":false');
    expect(placed).toMatch(/^503 /);
    await p.stop();
    expect(p.output()).toContain('order not accepted: OrderPlaced was not acknowledged');
    expect(p.output()).toContain('"username":"url-user","password":"***"');
    expect({ logs: leaks(p.output()), http: leaks(answers.join('\n')) }).toEqual({ logs: [], http: [] });
  });
});
