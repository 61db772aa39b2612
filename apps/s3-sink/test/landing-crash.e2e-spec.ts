/**
 * The real s3-sink process, killed with SIGKILL: once by its test hook right after a window's
 * segments were uploaded and before the offsets were committed, once in the middle of a window's
 * uploads, once from outside while it runs. Each restart replays from the committed offset and, in the
 * end, every record is in exactly one raw segment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { uniqueName, waitFor } from '@app/testing';
import { createObjectStore } from '@app/object-store';
import { exited, freePort, mainOf, ROOT, TS_NODE } from '../../../test/support/service-process';
import {
  BASE_HOUR,
  committedToEnd,
  config,
  createTopic,
  expectExactlyOnce,
  HOUR_MS,
  kafkaClient,
  readLanded,
  thing,
  ThingProducer,
} from './landing-fixtures';

interface Child {
  child: ChildProcess;
  output(): string;
}

async function spawnSink(env: Record<string, string>): Promise<Child> {
  const port = await freePort();
  const child = spawn(TS_NODE[0], [...TS_NODE.slice(1), mainOf('s3-sink')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env, HTTP_PORT: String(port) },
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

async function committedOffsets(groupId: string, topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return committed.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset);
  } finally {
    await admin.disconnect();
  }
}

const kafka = kafkaClient();

describe('s3-sink killed with SIGKILL', () => {
  const topic = uniqueName('landing-crash');
  const groupId = uniqueName('s3-sink.crash');
  const lakeUrl = `s3://${config.objectStore.bucket}/${uniqueName('lake')}/`;
  const store = createObjectStore(lakeUrl, config.objectStore);
  const env = {
    SINK_TOPICS: topic,
    SINK_GROUP_ID: groupId,
    LAKE_URL: lakeUrl,
    SINK_ROTATE_RECORDS: '25',
    SINK_FLUSH_IDLE: '1s',
    LAKE_IDLE_CLOSE: '2s',
    // A killed member holds its partitions until its session times out: keep restarts quick.
    SINK_SESSION_TIMEOUT: '6s',
  };
  let producer: ThingProducer;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    await createTopic(kafka, topic, 3);
    producer = new ThingProducer(kafka, topic, 3);
  });

  afterAll(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await exited(c);
    }
    await producer?.close();
  });

  it('lands every record exactly once across crashes between upload and commit, mid-upload, and at random', async () => {
    const at = (i: number, n: number) => BASE_HOUR + Math.floor((i * 3 * HOUR_MS) / n);
    await producer.send(Array.from({ length: 450 }, (_, i) => thing(i, at(i, 450), 'crash')), { flip: true });

    // 1. Dies after the third window's segments are in the store, before their offsets are committed.
    const first = await spawnSink({ ...env, SINK_CRASH_AT: 'after-upload:3' });
    children.push(first.child);
    await exited(first.child);
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(first.output()).toContain('"point":"after-upload"');
    expect(await committedToEnd(kafka, groupId, topic)).toBe(false);

    // 2. Replays the uncommitted window by its marker, then dies in the middle of the next window's uploads.
    const second = await spawnSink({ ...env, SINK_CRASH_AT: 'mid-upload:3' });
    children.push(second.child);
    await exited(second.child);
    expect(second.child.signalCode).toBe('SIGKILL');
    expect(second.output()).toContain('"point":"mid-upload"');

    // 3. Runs while more events arrive, and is killed from outside once it has committed something new.
    const third = await spawnSink(env);
    children.push(third.child);
    const before = (await committedOffsets(groupId, topic)).join(',');
    await producer.send(Array.from({ length: 150 }, (_, i) => thing(450 + i, at(i, 150), 'crash')), { flip: true });
    await waitFor(async () => (await committedOffsets(groupId, topic)).join(',') !== before, {
      timeoutMs: 60_000,
      what: 'the third sink to commit',
    });
    third.child.kill('SIGKILL');
    await exited(third.child);

    // 4. A clean run finishes the job.
    const last = await spawnSink(env);
    children.push(last.child);
    await waitFor(() => committedToEnd(kafka, groupId, topic), { timeoutMs: 90_000, what: 'everything committed' });
    last.child.kill('SIGTERM');
    await exited(last.child);

    expectExactlyOnce(await readLanded(store, topic), producer.sent);
    // The windows cut before a crash were replayed to their recorded ends (identical keys and bytes).
    const replays = [second, third, last].map((c) => c.output().split('replaying a cut window').length - 1);
    expect(replays.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect((await store.list(`_sink/cuts/${topic}/`)).length).toBeGreaterThan(3);
  });
});
