import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileObjectStore, type ObjectStore } from '@app/object-store';
import { FakeClock } from './clock';
import { StateMachineInterpreter } from './interpreter';
import { RunHistory } from './run-history';

describe('RunHistory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-history-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FileObjectStore(pathToFileURL(dir).toString() + '/');

  async function execute(history: RunHistory, name: string, clock: FakeClock, fail: boolean) {
    const sm = new StateMachineInterpreter(
      { StartAt: 'W', States: { W: { Type: 'Task', Resource: 'w', Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 1 }], End: true } } },
      {
        tasks: {
          w: async () => {
            if (fail) throw new Error('boom');
            return { ok: true };
          },
        },
        clock,
      },
    );
    const recorder = history.recorder('job', name, 'test', new Date(clock.now()).toISOString(), { day: 'd' });
    return recorder.finish(await sm.run({ name, input: { day: 'd' }, onEvent: recorder.onEvent }));
  }

  it('keeps each run durably with its status, duration and failed attempts, newest first', async () => {
    const clock = new FakeClock(Date.parse('2026-11-27T01:30:00Z'));
    const history = new RunHistory(store);
    await execute(history, 'first', clock, false);
    clock.advance(60_000);
    await execute(history, 'second', clock, true);
    const runs = await new RunHistory(store).list('job');
    expect(runs.map((r) => [r.name, r.status, r.failedAttempts, r.durationMs])).toEqual([
      ['second', 'FAILED', 2, 1000],
      ['first', 'SUCCEEDED', 0, 0],
    ]);
    expect(runs[0]).toMatchObject({ error: 'Error', cause: 'boom', state: 'W', trigger: 'test' });
    expect(runs[1].events.map((e) => e.type)).toEqual(['ExecutionStarted', 'StateEntered', 'TaskSucceeded', 'StateExited', 'ExecutionSucceeded']);
  });

  it('a progress write that fails does not fail the run; the final write does report', async () => {
    const failing: ObjectStore = { ...store, url: store.url, put: async () => Promise.reject(new Error('S3 down')), get: store.get.bind(store), head: store.head.bind(store), list: store.list.bind(store), delete: store.delete.bind(store) };
    const errors: unknown[] = [];
    const recorder = new RunHistory(failing).recorder('job', 'r', 'test', '2026-11-27T00:00:00.000Z', {}, (err) => errors.push(err));
    await recorder.onEvent({ type: 'ExecutionStarted', at: '2026-11-27T00:00:00.000Z', input: {} });
    expect(errors).toHaveLength(1);
    await expect(recorder.finish({ name: 'r', status: 'SUCCEEDED', startedAt: '2026-11-27T00:00:00.000Z', stoppedAt: '2026-11-27T00:00:01.000Z', events: [] })).rejects.toThrow('S3 down');
  });
});
