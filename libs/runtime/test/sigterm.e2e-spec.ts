/**
 * SIGTERM on a real service process: it stops fetching, finishes (or aborts) the batch in flight,
 * leaves the group and exits within 10 s; what it committed is exactly what it produced.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { avroSchema, createSchemaRegistry, RegistryCodec } from '@app/codec';
import { loadConfig } from '@app/config';
import { createKafkaClient } from '@app/kafka';
import { committedOffsets, readTopic, uniqueName, waitFor } from '@app/testing';

const ROOT = join(__dirname, '../../..');
const TS_NODE = [join(ROOT, 'node_modules/.bin/ts-node'), '--transpile-only', '-r', 'tsconfig-paths/register'];
const config = loadConfig(process.env, { service: 'runtime-sigterm-e2e', defaultHttpPort: 0 });

// Same definition as the fixture's (the fixture reads its topics from the environment at import).
const relaySchema = avroSchema({
  type: 'record',
  name: 'Relayed',
  namespace: 'com.securecart.test',
  fields: [{ name: 'seq', type: 'int' }],
});

describe('SIGTERM', () => {
  let kafka: Kafka;

  beforeAll(() => {
    kafka = createKafkaClient(config.kafka);
  });

  /** Runs the relay as its own process on 400 fresh records, SIGTERMs it after its first commit. */
  async function relayAndTerminate(env: Record<string, string>, { afterFirstCommit }: { afterFirstCommit: boolean }) {
    const service = uniqueName('runtime-sigterm');
    const input = uniqueName('test.sigterm-in.v1');
    const output = uniqueName('test.sigterm-out.v1');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: 1 }, { topic: output, numPartitions: 1 }] });
    const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: true });
    const serializer = await codec.serializerFor<{ seq: number }>(input, relaySchema);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // Separate record batches: a fetch returns whole batches, and small fetches should see several.
    for (let from = 0; from < 400; from += 10) {
      await producer.send({ topic: input, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: String(from + i), value: serializer.encode({ seq: from + i }) })) });
    }
    await producer.disconnect();

    const child = spawn(TS_NODE[0], [...TS_NODE.slice(1), join(__dirname, 'fixtures/slow-relay.main.ts')], {
      cwd: ROOT,
      env: { ...process.env, RELAY_SERVICE: service, RELAY_INPUT: input, RELAY_OUTPUT: output, LOG_LEVEL: 'info', ...env },
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    const exit = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    let tookMs = Number.NaN;
    let how: number | string = 'not exited';
    try {
      await waitFor(
        async () => out.includes('RELAY-HANDLING') && (!afterFirstCommit || ((await committedOffsets(kafka, service, input)).get(0) ?? -1n) > 0n),
        { timeoutMs: 60_000, what: `the relay handling (and committing) its first batch; output so far:\n${out}` },
      );
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      how = await exit;
      tookMs = Date.now() - signalledAt;
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const { groups } = await admin.describeGroups([service]);
    await admin.disconnect();
    const committed = (await committedOffsets(kafka, service, input)).get(0)!;
    const relayed = await codec.deserializerFor<{ seq: number }>(relaySchema).decodeAll((await readTopic(kafka, output)).map((m) => m.value!));
    return { tookMs, how, out, members: groups[0].members, committed, relayed: relayed.map((r) => (r.ok ? r.value.seq : -1)) };
  }

  function expectCleanExit(run: Awaited<ReturnType<typeof relayAndTerminate>>, committed: 'some' | 'none') {
    expect(run.tookMs).toBeLessThan(10_000);
    // Nest's shutdown hook re-raises the signal after closing the app.
    expect([0, 'SIGTERM']).toContain(run.how);
    expect(run.out).toContain('runtime closed');
    // It left the group (a vanished member would stay until its session timed out).
    expect(run.members).toEqual([]);
    // Exactly what was committed was produced: no half batch, nothing twice.
    if (committed === 'none') {
      expect(run.committed).toBe(-1n);
      expect(run.relayed).toEqual([]);
    } else {
      expect(run.committed).toBeGreaterThan(0n);
      expect(run.committed).toBeLessThan(400n);
      expect(run.relayed).toEqual(Array.from({ length: Number(run.committed) }, (_, i) => i));
    }
  }

  it('finishes the short batch in flight, leaves the group and exits within 10 s', async () => {
    expectCleanExit(await relayAndTerminate({ RELAY_DELAY_MS: '50', RELAY_FETCH_BYTES: '2048' }, { afterFirstCommit: true }), 'some');
  });

  it('aborts a batch that would outlast the grace period, and still exits within 10 s', async () => {
    // One 1 MiB fetch takes all 400 records: 40 s of handling, far beyond the 5 s grace.
    const run = await relayAndTerminate({ RELAY_DELAY_MS: '100', RELAY_FETCH_BYTES: '1048576' }, { afterFirstCommit: false });
    expectCleanExit(run, 'none');
    expect(run.out).toContain('batch in flight aborted for shutdown');
  });
});
