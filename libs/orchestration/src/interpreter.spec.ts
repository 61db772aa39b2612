import { FakeClock } from './clock';
import { errorMatches, retryDelayMs, StateMachineInterpreter, type ExecutionEvent, type TaskHandler } from './interpreter';
import { UnsupportedDefinitionError } from './asl';

class Transient extends Error {
  override name = 'Transient';
}
class Broken extends Error {
  override name = 'Broken';
}

/** A task that fails with `errors` in turn, then answers `result`; remembers each input it got. */
function flaky(errors: Error[], result: unknown = { ok: true }): TaskHandler & { inputs: unknown[] } {
  const inputs: unknown[] = [];
  const fn = Object.assign(async (input: unknown) => {
    inputs.push(input);
    const err = errors.shift();
    if (err) throw err;
    return result;
  }, { inputs });
  return fn;
}

function types(events: ExecutionEvent[]): string[] {
  return events.map((e) => ('state' in e && e.state ? `${e.type}:${e.state}` : e.type));
}

describe('StateMachineInterpreter', () => {
  it('retries with exponential backoff capped by MaxDelaySeconds, then succeeds', async () => {
    const clock = new FakeClock();
    const work = flaky([new Transient('1'), new Transient('2'), new Transient('3')]);
    const sm = new StateMachineInterpreter(
      {
        StartAt: 'Work',
        States: {
          Work: {
            Type: 'Task',
            Resource: '${WorkFunctionArn}',
            Retry: [{ ErrorEquals: ['Transient'], IntervalSeconds: 2, BackoffRate: 3, MaxAttempts: 3, MaxDelaySeconds: 10 }],
            End: true,
          },
        },
      },
      { tasks: { WorkFunctionArn: work }, clock },
    );
    const result = await sm.run({ name: 'r1', input: { day: '2026-11-27' } });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ ok: true });
    // 2 s, 2·3 = 6 s, 2·9 = 18 s capped at 10 s.
    expect(clock.sleeps).toEqual([2000, 6000, 10000]);
    expect(work.inputs).toHaveLength(4);
    expect(result.events.filter((e) => e.type === 'RetryScheduled').map((e) => (e as { delayMs: number }).delayMs)).toEqual([2000, 6000, 10000]);
  });

  it('gives up after MaxAttempts and the Catch takes over with {Error, Cause} at its ResultPath', async () => {
    const clock = new FakeClock();
    const work = flaky([new Transient('a'), new Transient('b'), new Transient('c')]);
    const onFailure = flaky([], { notified: true });
    const sm = new StateMachineInterpreter(
      {
        StartAt: 'Work',
        States: {
          Work: {
            Type: 'Task',
            Resource: 'work',
            Retry: [{ ErrorEquals: ['Transient'], IntervalSeconds: 1, MaxAttempts: 2 }],
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Notify' }],
            Next: 'Done',
          },
          Notify: { Type: 'Task', Resource: 'notify', ResultPath: null, Next: 'Failed' },
          Failed: { Type: 'Fail', Error: 'WorkFailed', Cause: 'see the run history' },
          Done: { Type: 'Succeed' },
        },
      },
      { tasks: { work, notify: onFailure }, clock },
    );
    const result = await sm.run({ name: 'r2', input: { day: 'd' } });
    expect(work.inputs).toHaveLength(3); // first attempt + 2 retries
    expect(clock.sleeps).toEqual([1000, 2000]); // BackoffRate defaults to 2
    expect(onFailure.inputs).toEqual([{ day: 'd', error: { Error: 'Transient', Cause: 'c' } }]);
    expect(result).toMatchObject({ status: 'FAILED', error: 'WorkFailed', cause: 'see the run history' });
    expect(types(result.events)).toContain('ErrorCaught:Work');
  });

  it('does not retry errors its retriers do not name, and fails the execution without a Catch', async () => {
    const clock = new FakeClock();
    const work = flaky([new Broken('bad input')]);
    const sm = new StateMachineInterpreter(
      { StartAt: 'W', States: { W: { Type: 'Task', Resource: 'w', Retry: [{ ErrorEquals: ['Transient'] }], End: true } } },
      { tasks: { w: work }, clock },
    );
    const result = await sm.run({ name: 'r3', input: {} });
    expect(result).toMatchObject({ status: 'FAILED', error: 'Broken', cause: 'bad input' });
    expect(clock.sleeps).toEqual([]);
  });

  it('uses the first matching retrier, each with its own attempt count; FULL jitter scales the delay', async () => {
    const clock = new FakeClock();
    const work = flaky([new Transient('1'), new Broken('2'), new Transient('3'), new Broken('4')]);
    const sm = new StateMachineInterpreter(
      {
        StartAt: 'W',
        States: {
          W: {
            Type: 'Task',
            Resource: 'w',
            Retry: [
              { ErrorEquals: ['Transient'], IntervalSeconds: 10, MaxAttempts: 5, JitterStrategy: 'FULL' },
              { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 1 },
            ],
            End: true,
          },
        },
      },
      { tasks: { w: work }, clock, random: () => 0.5 },
    );
    const result = await sm.run({ name: 'r4', input: {} });
    // Transient#1: 10 s·0.5; Broken#1: 1 s; Transient#2: 20 s·0.5; Broken#2: the catch-all's one retry is used up.
    expect(clock.sleeps).toEqual([5000, 1000, 10000]);
    expect(result).toMatchObject({ status: 'FAILED', error: 'Broken' });
  });

  it('Choice routes on the data, Wait waits SecondsPath, and a loop polls until ready', async () => {
    const clock = new FakeClock();
    let polls = 0;
    const check: TaskHandler = async (input) => {
      polls++;
      const attempts = (input as { attempts: number }).attempts + 1;
      return { ready: polls >= 3, attempts };
    };
    const sm = new StateMachineInterpreter(
      {
        StartAt: 'Init',
        States: {
          Init: { Type: 'Pass', Result: { attempts: 0 }, ResultPath: '$.poll', Next: 'Check' },
          Check: { Type: 'Task', Resource: 'check', Parameters: { 'attempts.$': '$.poll.attempts' }, ResultPath: '$.poll', Next: 'Ready?' },
          'Ready?': {
            Type: 'Choice',
            Choices: [
              { Variable: '$.poll.ready', BooleanEquals: true, Next: 'Done' },
              { Variable: '$.poll.attempts', NumericGreaterThanEquals: 10, Next: 'GaveUp' },
            ],
            Default: 'Later',
          },
          Later: { Type: 'Wait', SecondsPath: '$.pollSeconds', Next: 'Check' },
          GaveUp: { Type: 'Fail', Error: 'NotReady' },
          Done: { Type: 'Pass', Parameters: { 'polled.$': '$.poll.attempts', 'name.$': '$$.Execution.Name' }, End: true },
        },
      },
      { tasks: { check }, clock },
    );
    const result = await sm.run({ name: 'poll-run', input: { pollSeconds: 300 } });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ polled: 3, name: 'poll-run' });
    expect(clock.sleeps).toEqual([300_000, 300_000]);
    expect(result.events.filter((e) => e.type === 'ChoiceMade').map((e) => (e as { next: string }).next)).toEqual(['Later', 'Later', 'Done']);
  });

  it('Choice supports And/Not/IsPresent/StringEquals and fails with States.NoChoiceMatched without Default', async () => {
    const def = {
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          Choices: [
            { And: [{ Variable: '$.kind', StringEquals: 'daily' }, { Not: { Variable: '$.force', IsPresent: true } }], Next: 'A' },
            { Variable: '$.n', NumericLessThan: 0, Next: 'B' },
          ],
        },
        A: { Type: 'Succeed' },
        B: { Type: 'Succeed' },
      },
    };
    const sm = new StateMachineInterpreter(def, { tasks: {}, clock: new FakeClock() });
    expect((await sm.run({ name: 'a', input: { kind: 'daily', n: 1 } })).events.find((e) => e.type === 'ChoiceMade')).toMatchObject({ next: 'A' });
    expect((await sm.run({ name: 'b', input: { kind: 'daily', force: true, n: -1 } })).events.find((e) => e.type === 'ChoiceMade')).toMatchObject({ next: 'B' });
    expect(await sm.run({ name: 'c', input: { kind: 'x', n: 5 } })).toMatchObject({ status: 'FAILED', error: 'States.NoChoiceMatched' });
  });

  it('Wait until a Timestamp waits the difference on the clock', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 28, 1, 0, 0));
    const sm = new StateMachineInterpreter(
      { StartAt: 'W', States: { W: { Type: 'Wait', TimestampPath: '$.at', End: true } } },
      { tasks: {}, clock },
    );
    await sm.run({ name: 'w', input: { at: '2026-11-28T01:30:00Z' } });
    expect(clock.sleeps).toEqual([1_800_000]);
  });

  it('a Task past its TimeoutSeconds fails with States.Timeout, which States.TaskFailed does not catch', async () => {
    const clock = new FakeClock();
    const slow: TaskHandler = () => {
      // The work takes longer than the timeout: time moves on, the promise never settles.
      setImmediate(() => clock.advance(61_000));
      return new Promise(() => undefined);
    };
    const sm = new StateMachineInterpreter(
      {
        StartAt: 'S',
        States: {
          S: { Type: 'Task', Resource: 's', TimeoutSeconds: 60, Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'X' }], End: true },
          X: { Type: 'Succeed' },
        },
      },
      { tasks: { s: slow }, clock },
    );
    expect(await sm.run({ name: 't', input: {} })).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
  });

  it('a path missing from the input is States.Runtime: never retried or caught', async () => {
    const work = flaky([]);
    const sm = new StateMachineInterpreter(
      {
        StartAt: 'W',
        States: {
          W: {
            Type: 'Task',
            Resource: 'w',
            Parameters: { 'day.$': '$.missing' },
            Retry: [{ ErrorEquals: ['States.ALL'] }],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'X' }],
            End: true,
          },
          X: { Type: 'Succeed' },
        },
      },
      { tasks: { w: work }, clock: new FakeClock() },
    );
    expect(await sm.run({ name: 'p', input: {} })).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(work.inputs).toEqual([]);
  });

  it('refuses definitions it cannot run and tasks without an implementation', () => {
    expect(() => new StateMachineInterpreter({ StartAt: 'P', States: { P: { Type: 'Parallel', End: true } } }, { tasks: {} })).toThrow(UnsupportedDefinitionError);
    expect(() => new StateMachineInterpreter({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } }, { tasks: {} })).toThrow(/unknown state "Nowhere"/);
    expect(() => new StateMachineInterpreter({ StartAt: 'A', States: { A: { Type: 'Task', Resource: '${Fn}', End: true } } }, { tasks: {} })).toThrow(/Fn/);
  });

  it('ResultPath merges into the input, OutputPath selects, InputPath narrows what the task sees', async () => {
    const work = flaky([], { rows: 7 });
    const sm = new StateMachineInterpreter(
      { StartAt: 'W', States: { W: { Type: 'Task', Resource: 'w', InputPath: '$.job', ResultPath: '$.job.result', OutputPath: '$.job', End: true } } },
      { tasks: { w: work }, clock: new FakeClock() },
    );
    const result = await sm.run({ name: 'o', input: { job: { day: 'd' }, other: 1 } });
    expect(work.inputs).toEqual([{ day: 'd' }]);
    expect(result.output).toEqual({ day: 'd', result: { rows: 7 } });
  });
});

describe('retry rules', () => {
  it('States.ALL matches everything but States.Runtime; States.TaskFailed everything but timeouts', () => {
    expect(errorMatches(['States.ALL'], 'Anything')).toBe(true);
    expect(errorMatches(['States.ALL'], 'States.Runtime')).toBe(false);
    expect(errorMatches(['States.TaskFailed'], 'States.Timeout')).toBe(false);
    expect(errorMatches(['States.TaskFailed'], 'Transient')).toBe(true);
    expect(errorMatches(['Transient'], 'Other')).toBe(false);
  });

  it('retryDelayMs defaults to 1 s doubling', () => {
    expect([0, 1, 2].map((n) => retryDelayMs({ ErrorEquals: ['x'] }, n))).toEqual([1000, 2000, 4000]);
  });
});
