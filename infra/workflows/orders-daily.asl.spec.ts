/**
 * The orders-daily workflow definition: valid Amazon States Language (asl-validator, the schema AWS's
 * own tooling checks), runnable by @app/orchestration, and its paths — wait for compaction, give up
 * waiting, a failing step caught and announced — behave as intended (fake tasks, fake clock).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { ORDERS_DAILY_RESOURCES } from '@app/batch';
import { FakeClock, StateMachineInterpreter, type TaskHandler } from '@app/orchestration';

const file = join(__dirname, 'orders-daily.asl.json');
const definition = JSON.parse(readFileSync(file, 'utf8'));
const R = ORDERS_DAILY_RESOURCES;

class ObjectStoreUnavailableError extends Error {
  override name = 'ObjectStoreUnavailableError';
}

function fakeTasks(options: { readyAfterChecks?: number; buildFailures?: number } = {}) {
  const calls: Record<string, unknown[]> = {};
  let checks = 0;
  let buildFailures = options.buildFailures ?? 0;
  const record = (name: string, fn: TaskHandler): TaskHandler => async (input, ctx) => {
    (calls[name] ??= []).push(input);
    return fn(input, ctx);
  };
  const tasks: Record<string, TaskHandler> = {
    [R.resolveDay]: record('resolve', async (raw) => {
      const { input } = raw as { input: Record<string, unknown> };
      return { job: 'orders-daily', day: input.day ?? '2026-11-26', force: false, pollSeconds: 300, maxPolls: 3, compaction: { ready: false, attempts: 0 } };
    }),
    [R.checkCompaction]: record('check', async (raw) => {
      const { attempts } = raw as { attempts: number };
      checks++;
      return { ready: checks >= (options.readyAfterChecks ?? 1), attempts: attempts + 1 };
    }),
    [R.build]: record('build', async () => {
      if (buildFailures-- > 0) throw new ObjectStoreUnavailableError('S3 answered 503 SlowDown');
      return { tables: [] };
    }),
    [R.verify]: record('verify', async () => ({ orders: 3, tables: [{ name: 'orders_daily', rows: 3, files: 1, manifestKey: 'k' }] })),
    [R.publish]: record('publish', async () => ({ topic: 't', partition: 0, offset: '0' })),
  };
  return { tasks, calls };
}

describe('infra/workflows/orders-daily.asl.json', () => {
  it('is valid Amazon States Language (asl-validator)', () => {
    const result = aslValidator(definition);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('names exactly the Lambda placeholders CDK substitutes and the local runner implements', () => {
    const sm = new StateMachineInterpreter(definition, { tasks: fakeTasks().tasks });
    expect(sm.placeholders.sort()).toEqual(Object.values(R).sort());
  });

  it('every task that can fail for good is caught and announced as FAILED', () => {
    for (const [name, state] of Object.entries(definition.States) as [string, { Type: string; Resource?: string; Catch?: { ErrorEquals: string[]; Next: string }[] }][]) {
      if (state.Type !== 'Task' || state.Resource === `\${${R.publish}}` || state.Resource === `\${${R.resolveDay}}`) continue;
      expect([name, state.Catch?.map((c) => [c.ErrorEquals, c.Next])]).toEqual([name, [[['States.ALL'], 'PublishFailed']]]);
    }
  });

  it('waits for compaction (Choice → Wait → check) and then builds, verifies and publishes SUCCEEDED', async () => {
    const clock = new FakeClock(Date.parse('2026-11-27T01:30:00Z'));
    const { tasks, calls } = fakeTasks({ readyAfterChecks: 3 });
    const result = await new StateMachineInterpreter(definition, { tasks, clock }).run({ name: 'orders-daily-x', input: {} });
    expect(result.status).toBe('SUCCEEDED');
    expect(calls.check).toHaveLength(3);
    expect(clock.sleeps).toEqual([300_000, 300_000]);
    expect(calls.resolve).toEqual([{ input: {}, startedAt: '2026-11-27T01:30:00.000Z' }]);
    expect(calls.build).toEqual([{ day: '2026-11-26', force: false, runId: 'orders-daily-x' }]);
    expect(calls.publish).toEqual([
      { job: 'orders-daily', day: '2026-11-26', runId: 'orders-daily-x', startedAt: '2026-11-27T01:30:00.000Z', status: 'SUCCEEDED', tables: [{ name: 'orders_daily', rows: 3, files: 1, manifestKey: 'k' }] },
    ]);
  });

  it('gives up after maxPolls checks and announces CompactionNotReady', async () => {
    const { tasks, calls } = fakeTasks({ readyAfterChecks: 99 });
    const result = await new StateMachineInterpreter(definition, { tasks, clock: new FakeClock() }).run({ name: 'r', input: { day: '2026-11-26' } });
    expect(result).toMatchObject({ status: 'FAILED', error: 'OrdersDailyFailed' });
    expect(calls.check).toHaveLength(3);
    expect(calls.build).toBeUndefined();
    expect(calls.publish).toEqual([expect.objectContaining({ status: 'FAILED', error: expect.objectContaining({ Error: 'CompactionNotReady' }) })]);
  });

  it('retries a build that S3 fails (15 s, 30 s), succeeds on the third attempt; a fourth failure would be caught', async () => {
    const clock = new FakeClock();
    const { tasks, calls } = fakeTasks({ buildFailures: 2 });
    expect((await new StateMachineInterpreter(definition, { tasks, clock }).run({ name: 'r', input: { day: '2026-11-26' } })).status).toBe('SUCCEEDED');
    expect(calls.build).toHaveLength(3);
    expect(clock.sleeps).toEqual([15_000, 30_000]);

    const failing = fakeTasks({ buildFailures: 3 });
    const result = await new StateMachineInterpreter(definition, { tasks: failing.tasks, clock: new FakeClock() }).run({ name: 'r2', input: { day: '2026-11-26' } });
    expect(result).toMatchObject({ status: 'FAILED', error: 'OrdersDailyFailed' });
    expect(failing.calls.publish).toEqual([
      expect.objectContaining({ status: 'FAILED', error: { Error: 'ObjectStoreUnavailableError', Cause: 'S3 answered 503 SlowDown' } }),
    ]);
  });
});
