/**
 * The operators' lake tools as a user runs them (npm scripts in child processes) against the real
 * stack: `lake:compact` on an hour the sink still holds open waits until the sink has landed every
 * record produced before it started, then `query` counts exactly those records and `lake:status`
 * lists the compacted hour; when the sink is not running, `lake:compact` says what has not landed and
 * compacts what has.
 */
import { spawn } from 'node:child_process';
import { LandingSink, loadLandingSettings } from '@app/lake';
import { createLogger } from '@app/logging';
import { createObjectStore } from '@app/object-store';
import { uniqueName } from '@app/testing';
import { config, createTopic, kafkaClient, thing, ThingProducer } from '../../apps/s3-sink/test/landing-fixtures';

const PARTITIONS = 3;
const kafka = kafkaClient();
const topic = uniqueName('lake-tools');
const view = topic.replace(/[.-]/g, '_');
const groupId = uniqueName('s3-sink.lake-tools');
const lakeUrl = `s3://${config.objectStore.bucket}/${uniqueName('lake')}/`;
// The current hour: the sink would not close it on its own yet, so lake:compact must wait for it.
const now = Date.now();
const hour = new Date(now).toISOString().slice(0, 13);
const env = { ...process.env, LAKE_URL: lakeUrl, SINK_GROUP_ID: groupId, SINK_TOPICS: topic, LAKE_QUERY_CACHE: `.lake-cache/${uniqueName('q')}` };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an npm script like a user; `onStderr` sees its progress lines as they come. */
function npmRun(script: string, args: string[], onStderr?: (text: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function startSink(): LandingSink {
  const settings = loadLandingSettings(
    // Nothing rotates by size or age during the test: only the idle flush lands the records.
    { ...env, SINK_ROTATE_AGE: '1h', SINK_ROTATE_RECORDS: '1000000', SINK_FLUSH_IDLE: '1s' },
    { defaultLakeUrl: lakeUrl, catalogTopics: [] },
  );
  return new LandingSink({
    kafka,
    store: createObjectStore(lakeUrl, config.objectStore),
    registry: config.schemaRegistry,
    settings,
    logger: createLogger({ service: 's3-sink-test' }, 'warn'),
  });
}

describe('lake tools: lake:compact, query and lake:status', () => {
  let producer: ThingProducer;
  let sink: LandingSink | undefined;

  beforeAll(async () => {
    await createTopic(kafka, topic, PARTITIONS);
    producer = new ThingProducer(kafka, topic, PARTITIONS);
  });

  afterAll(async () => {
    await sink?.stop();
    await producer?.close();
  });

  it('lake:compact waits for the sink to land what was produced before it, and query counts exactly that', async () => {
    await producer.send(Array.from({ length: 300 }, (_, i) => thing(i, now - 1000 + (i % 10))));
    // The sink starts only once lake:compact has taken the end offsets and is waiting, so the wait is real.
    let sinkStarted: Promise<void> | undefined;
    const compact = await npmRun('lake:compact', ['--topic', topic, '--hour', hour, '--wait-timeout', '60s'], (err) => {
      if (!sinkStarted && err.includes('not landed yet')) {
        sink = startSink();
        sinkStarted = sink.start();
      }
    });
    await sinkStarted;
    expect(compact.stderr).toContain('300 offset(s) in 3 partition(s) not landed yet');
    expect(compact.stderr).toContain('caught up');
    expect(compact.code).toBe(0);
    expect(compact.stdout).toContain(`compacted ${topic} ${hour}: 300 rows`);

    const query = await npmRun('query', ['--json', `select count(*)::int as n, count(distinct eventId)::int as d from ${view}`]);
    expect(query.code).toBe(0);
    expect(JSON.parse(query.stdout.trim())).toEqual({ n: 300, d: 300 });

    const status = await npmRun('lake:status', []);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(topic);
  });

  it('without a running sink it says what has not landed, then compacts what has', async () => {
    await sink?.stop();
    sink = undefined;
    await producer.send(Array.from({ length: 30 }, (_, i) => thing(1000 + i, now - 500)));
    const compact = await npmRun('lake:compact', ['--topic', topic, '--hour', hour, '--wait-timeout', '2s']);
    expect(compact.code).toBe(0);
    expect(compact.stderr).toMatch(/warning: the sink has not landed everything yet \(partition \d: committed \d+ < \d+/);
    expect(compact.stderr).toContain('Is the sink running');
    expect(compact.stdout).toContain(`unchanged: ${topic} ${hour}`);
  });
});
