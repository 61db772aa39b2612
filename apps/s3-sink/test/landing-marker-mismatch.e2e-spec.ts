/**
 * The real s3-sink dies between a window's upload and its commit; the operator then changes the topic's
 * event-time field and restarts it. The replay would name the window's segment by another hour than its
 * cut marker lists (the crashed run's file is already in raw/): it must upload nothing, commit nothing,
 * and say so, until the setting is restored — then the window lands exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cutMarkerKey, rawSegmentKey } from '@app/lake';
import { createObjectStore } from '@app/object-store';
import { uniqueName, waitFor } from '@app/testing';
import { exited, freePort, mainOf, ROOT, startService, TS_NODE, type ServiceProcess } from '../../../test/support/service-process';
import { BASE_HOUR, committedToEnd, config, createTopic, expectExactlyOnce, kafkaClient, readLanded, thing, ThingProducer } from './landing-fixtures';

const kafka = kafkaClient();

describe('s3-sink replay after the event-time field changed', () => {
  const topic = uniqueName('landing-marker-mismatch');
  const groupId = uniqueName('s3-sink.mismatch');
  const lakeUrl = `s3://${config.objectStore.bucket}/${uniqueName('lake')}/`;
  const store = createObjectStore(lakeUrl, config.objectStore);
  const env = {
    SINK_TOPICS: topic,
    SINK_GROUP_ID: groupId,
    LAKE_URL: lakeUrl,
    SINK_ROTATE_RECORDS: '20',
    SINK_FLUSH_IDLE: '1s',
    // A killed member holds its partitions until its session times out: keep the restart quick.
    SINK_SESSION_TIMEOUT: '6s',
  };
  let producer: ThingProducer;
  let crashed: ChildProcess | undefined;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    await createTopic(kafka, topic, 1);
    producer = new ThingProducer(kafka, topic, 1);
  });

  afterAll(async () => {
    if (crashed && crashed.exitCode === null && crashed.signalCode === null) crashed.kill('SIGKILL');
    if (crashed) await exited(crashed);
    for (const s of services) await s.stop();
    await producer?.close();
  });

  const rawKeys = async () => (await store.list(`raw/${topic}/`)).map((o) => o.key).sort();

  it('uploads and commits nothing while the replay differs from its marker, and lands the window once when the setting is restored', async () => {
    await producer.send(Array.from({ length: 20 }, (_, i) => thing(i, BASE_HOUR + i * 60_000, 'mismatch')));
    const hour = new Date(BASE_HOUR).toISOString().slice(0, 13);
    const listed = rawSegmentKey(topic, hour, 0, 0n);
    const markerKey = cutMarkerKey(topic, 0, 0n);

    // 1. Dies after the window's segment is in the store, before its offset is committed.
    crashed = spawn(TS_NODE[0], [...TS_NODE.slice(1), mainOf('s3-sink')], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env, HTTP_PORT: String(await freePort()), SINK_CRASH_AT: 'after-upload:1' },
      stdio: 'ignore',
    });
    await exited(crashed);
    expect(crashed.signalCode).toBe('SIGKILL');
    expect(await rawKeys()).toEqual([listed]);
    expect(await committedToEnd(kafka, groupId, topic)).toBe(false);

    // 2. Restarted with another event-time field (`n`: epoch millis in 1970): the replay's key differs.
    const changed = await startService('s3-sink', { ...env, SINK_EVENT_TIME_FIELDS: `${topic}=n` });
    services.push(changed);
    const refusalShown = async () => {
      const { writers } = (await (await fetch(`${changed.baseUrl}/sink/writers`)).json()) as { writers: { topic: string; refusedMarker?: string }[] };
      return writers.some((w) => w.topic === topic && w.refusedMarker === markerKey);
    };
    // Either outcome ends the wait: refused (this fix), or uploaded and committed (the duplicate it prevents).
    await waitFor(async () => (await refusalShown()) || (await committedToEnd(kafka, groupId, topic)), {
      timeoutMs: 60_000,
      what: 'the replay refused, shown on /sink/writers (or committed)',
    });
    expect(await rawKeys()).toEqual([listed]);
    expect(await committedToEnd(kafka, groupId, topic)).toBe(false);
    const metrics = await (await fetch(`${changed.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`sink_replays_refused_total\\{topic="${topic}",partition="0"[^}]*\\} [1-9]`));
    const refusal = changed
      .output()
      .split('\n')
      .find((line) => line.includes('replayed window differs from its cut marker'));
    expect(refusal).toBeDefined();
    expect(JSON.parse(refusal!)).toMatchObject({
      level: 'error',
      topic,
      partition: 0,
      from: '0',
      to: '19',
      marker: markerKey,
      listedFiles: [listed],
      replayFiles: [rawSegmentKey(topic, '1970-01-01T00', 0, 0n)],
    });
    await changed.stop();

    // 3. The setting restored: the replay matches its marker, finds the file there, and commits.
    const restored = await startService('s3-sink', env);
    services.push(restored);
    await waitFor(() => committedToEnd(kafka, groupId, topic), { timeoutMs: 60_000, what: 'the window committed' });
    await restored.stop();
    expect(restored.output()).not.toContain('replayed window differs from its cut marker');
    expect(await rawKeys()).toEqual([listed]);
    expectExactlyOnce(await readLanded(store, topic), producer.sent);
  });
});
