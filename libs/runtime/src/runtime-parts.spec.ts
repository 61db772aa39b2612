import { planTasks } from './co-partitioned-assigner';
import { classify, isFencing } from './errors';
import { NonRetriableError } from './handler';
import { formatTraceparent, parseTraceparent, startRecordSpan } from './trace-context';

describe('planTasks (co-partitioned assignment)', () => {
  it('gives partition n of every topic to one member, spreading tasks round robin over sorted members', () => {
    const plan = planTasks(['m-b', 'm-a'], [6, 6, 3]);
    expect(plan.get('m-a')).toEqual([0, 2, 4]);
    expect(plan.get('m-b')).toEqual([1, 3, 5]);
  });

  it('leaves extra members idle', () => {
    expect(planTasks(['x', 'y', 'z'], [2])).toEqual(new Map([['x', [0]], ['y', [1]], ['z', []]]));
  });
});

describe('error classification', () => {
  it('follows the retriable flag; no flag is unclassified', () => {
    expect(classify(new NonRetriableError('bad'))).toBe('dead-letter');
    expect(classify(Object.assign(new Error('later'), { retriable: true }))).toBe('retry');
    expect(classify(new TypeError('bug'))).toBe('unclassified');
  });

  it('recognises fencing through kafkajs wrappers', () => {
    const protocol = Object.assign(new Error('Producer attempted an operation with an old epoch'), { type: 'INVALID_PRODUCER_EPOCH' });
    expect(isFencing(protocol)).toBe(true);
    expect(isFencing(Object.assign(new Error('retries exceeded'), { originalError: protocol }))).toBe(true);
    expect(isFencing(new Error('wrapped', { cause: { code: 90 } }))).toBe(true);
    expect(isFencing(new Error('connection refused'))).toBe(false);
  });
});

describe('trace context', () => {
  const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('parses and formats W3C traceparent, rejecting malformed and all-zero ids', () => {
    expect(parseTraceparent(parent)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 });
    expect(formatTraceparent(parseTraceparent(parent)!)).toBe(parent);
    expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceparent('garbage')).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });

  it('continues the parent trace with a new span id (no OpenTelemetry SDK registered)', () => {
    const child = parseTraceparent(startRecordSpan('process t', parent, {}).traceparent)!;
    expect(child.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child.spanId).not.toBe('00f067aa0ba902b7');
    expect(child.flags).toBe(1);
  });

  it('starts a new trace when the input has none', () => {
    const a = parseTraceparent(startRecordSpan('p', undefined, {}).traceparent)!;
    const b = parseTraceparent(startRecordSpan('p', undefined, {}).traceparent)!;
    expect(a.traceId).not.toBe(b.traceId);
  });
});
