/**
 * The runtime's pure parts in detail (found by mutation testing): what a dead-lettered record carries,
 * the assignment the co-partitioned assigner hands each member, the error classes and fencing
 * detection, the task store's layers, and trace propagation with a recording tracer (a fake one: the
 * API's provider hook, no SDK). The Kafka-facing runtime is proven by libs/runtime/test/*.e2e-spec.ts.
 */
import { context, SpanKind, trace, TraceFlags, type Span, type SpanContext, type SpanOptions, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { AssignerProtocol, type Cluster, type KafkaMessage } from 'kafkajs';
import { CO_PARTITIONED_ASSIGNER, coPartitionedAssigner } from './co-partitioned-assigner';
import { deadLetter, DLQ_HEADERS, dlqTopicOf } from './dead-letter';
import { classify, errorClass, errorMessage, isFencing, JsonDecodeError, RetryBatchError, TaskFencedError } from './errors';
import { NonRetriableError } from './handler';
import { TaskStore } from './task-store';
import { parseTraceparent, startRecordSpan, TRACEPARENT } from './trace-context';

describe('dead-lettering', () => {
  const message: KafkaMessage = {
    key: Buffer.from('order-1'),
    value: Buffer.from([0, 0, 0, 0, 7, 1, 2]),
    headers: { traceparent: Buffer.from('tp'), tenant: 'shop' },
    offset: '42',
    timestamp: '1764306000000',
    attributes: 0,
  };
  const now = new Date('2026-11-28T05:00:00.000Z');

  it('goes to <topic>.dlq', () => {
    expect(dlqTopicOf('orders.order-placed.v1')).toBe('orders.order-placed.v1.dlq');
  });

  it('keeps the original key, value, headers and timestamp and names the failure and its source', () => {
    const out = deadLetter({ topic: 'orders.order-placed.v1', partition: 3, message }, new NonRetriableError('no lines'), 'order-service', now);
    expect(out).toEqual({
      key: message.key,
      value: message.value,
      timestamp: '1764306000000',
      headers: {
        traceparent: Buffer.from('tp'),
        tenant: 'shop',
        'dlq.error.class': 'NonRetriableError',
        'dlq.error.message': 'no lines',
        'dlq.error.code': 'INVALID',
        'dlq.source.topic': 'orders.order-placed.v1',
        'dlq.source.partition': '3',
        'dlq.source.offset': '42',
        'dlq.service': 'order-service',
        'dlq.time': '2026-11-28T05:00:00.000Z',
      },
    });
    expect(Object.values(DLQ_HEADERS).every((h) => h in out.headers!)).toBe(true);
  });

  it('carries string and numeric error codes, nothing for another kind of code, and bounds the message', () => {
    // A message of the old format, which has no headers.
    const bare: KafkaMessage = { key: message.key, value: message.value, offset: '42', timestamp: '1764306000000', attributes: 0, size: 20 };
    const src = { topic: 't', partition: 0, message: bare };
    const code = (err: unknown) => deadLetter(src, err, 's', now).headers![DLQ_HEADERS.errorCode];
    expect(code(new NonRetriableError('x', 'NO_LINES'))).toBe('NO_LINES');
    expect(code(Object.assign(new Error('x'), { code: 47 }))).toBe('47');
    expect(code(Object.assign(new Error('x'), { code: { nested: true } }))).toBeUndefined();
    expect(code(null)).toBeUndefined();
    const long = deadLetter(src, new Error('x'.repeat(5_000)), 's', now);
    expect(long.headers![DLQ_HEADERS.errorMessage]).toBe('x'.repeat(2_000));
    expect(Object.keys(long.headers!)).not.toContain('traceparent');
  });
});

describe('co-partitioned assigner', () => {
  const cluster = (partitions: Record<string, number>) =>
    ({
      findTopicPartitionMetadata: (topic: string) => Array.from({ length: partitions[topic] }, (_, partitionId) => ({ partitionId })),
    }) as unknown as Cluster;

  it('hands each member partition n of every topic that has it, and no entry for a topic it owns nothing of', async () => {
    const assigner = coPartitionedAssigner({ cluster: cluster({ orders: 4, stock: 2 }), groupId: 'g', logger: undefined as never });
    const result = await assigner.assign({
      members: [{ memberId: 'b', memberMetadata: Buffer.alloc(0) }, { memberId: 'a', memberMetadata: Buffer.alloc(0) }],
      topics: ['orders', 'stock'],
    });
    const decoded = new Map(result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment]));
    expect(decoded).toEqual(
      new Map([
        ['a', { orders: [0, 2], stock: [0] }],
        ['b', { orders: [1, 3], stock: [1] }],
      ]),
    );

    const spare = await coPartitionedAssigner({ cluster: cluster({ orders: 1, stock: 1 }), groupId: 'g', logger: undefined as never }).assign({
      members: [{ memberId: 'a', memberMetadata: Buffer.alloc(0) }, { memberId: 'b', memberMetadata: Buffer.alloc(0) }],
      topics: ['orders', 'stock'],
    });
    expect(spare.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment])).toEqual([
      ['a', { orders: [0], stock: [0] }],
      ['b', {}],
    ]);
  });

  it('announces one protocol name every member (old and new versions in a rolling deploy) agrees on', () => {
    const assigner = coPartitionedAssigner({ cluster: cluster({}), groupId: 'g', logger: undefined as never });
    expect(CO_PARTITIONED_ASSIGNER).toBe('SecureCartCoPartitioned');
    expect(assigner.name).toBe(CO_PARTITIONED_ASSIGNER);
    const protocol = assigner.protocol({ topics: ['orders'] });
    expect(protocol.name).toBe(CO_PARTITIONED_ASSIGNER);
    expect(AssignerProtocol.MemberMetadata.decode(Buffer.from(protocol.metadata))).toMatchObject({ version: 0, topics: ['orders'] });
  });
});

describe('runtime errors', () => {
  it('name their cause and keep it', () => {
    const cause = new SyntaxError('Unexpected token');
    const json = new JsonDecodeError('svc.commands', cause);
    expect([json.name, json.message, json.cause, json.retriable]).toEqual(['JsonDecodeError', 'value on svc.commands is not JSON: Unexpected token', cause, false]);
    expect(classify(json)).toBe('dead-letter');
    const retry = new RetryBatchError('broker gone');
    expect([retry.name, retry.message, retry.cause, retry.reason]).toEqual(['RetryBatchError', 'batch will be retried: broker gone', 'broker gone', 'broker gone']);
    const fenced = new TaskFencedError(4, new Error('old epoch'));
    expect([fenced.name, fenced.message, fenced.task]).toEqual(['TaskFencedError', 'task 4 was fenced by a newer owner: old epoch', 4]);
    expect((fenced.cause as Error).message).toBe('old epoch');
  });

  it('report the class of what was thrown: its name, else its constructor, else its type', () => {
    class LedgerError extends Error {}
    expect(errorClass(new LedgerError('x'))).toBe('LedgerError');
    expect(errorClass(new NonRetriableError('x'))).toBe('NonRetriableError');
    expect(errorClass(Object.assign(new Error('x'), { name: '' }))).toBe('Error');
    expect(errorClass('text')).toBe('string');
    expect(errorMessage(42)).toBe('42');
    expect(new NonRetriableError('x').code).toBe('INVALID');
    // Logs and stack traces print the name, not the constructor.
    expect(String(new NonRetriableError('no lines'))).toBe('NonRetriableError: no lines');
  });

  it('classify a thrown null or primitive as unclassified', () => {
    expect(classify(null)).toBe('unclassified');
    expect(classify('boom')).toBe('unclassified');
    expect(classify(Object.assign(new Error('x'), { retriable: 'yes' }))).toBe('unclassified');
  });

  it('detect fencing by either error code or name, and stop on cycles and non-objects', () => {
    expect(isFencing({ type: 'PRODUCER_FENCED' })).toBe(true);
    expect(isFencing({ code: 47 })).toBe(true);
    expect(isFencing({ code: 90 })).toBe(true);
    expect(isFencing({ type: 'NOT_COORDINATOR', code: 16 })).toBe(false);
    expect(isFencing(null)).toBe(false);
    expect(isFencing('producer fenced')).toBe(false);
    const loop = new Error('a') as Error & { cause?: unknown };
    loop.cause = { originalError: loop };
    expect(isFencing(loop)).toBe(false);
  });
});

describe('task store layers', () => {
  it('reads committed entries through empty record and transaction layers', () => {
    const s = new TaskStore<number>('totals', 'svc.totals-changelog', 0);
    s.restore('a', 1);
    expect(s.get('a')).toBe(1);
    s.put('a', 2);
    s.keepRecord();
    s.delete('a');
    expect(s.get('a')).toBeUndefined();
    s.dropRecord();
    expect(s.get('a')).toBe(2);
  });

  it('refuses null like undefined, naming the store', () => {
    expect(() => new TaskStore<number | null>('totals', 'c', 0).put('a', null)).toThrow('store totals: use delete() instead of put(a, null)');
  });

  it('lists a key written in the transaction and again in the record once, with the record value', () => {
    const s = new TaskStore<number>('totals', 'c', 0);
    s.put('a', 1);
    s.keepRecord();
    s.put('a', 2);
    expect([...s.entries()]).toEqual([['a', 2]]);
  });
});

describe('trace propagation with a recording tracer', () => {
  interface Started {
    name: string;
    options?: SpanOptions;
    parent?: SpanContext;
    tracerName: string;
  }
  const started: Started[] = [];
  const ownIds = { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', spanId: 'bbbbbbbbbbbbbbbb' };

  beforeAll(() => {
    const provider: TracerProvider = {
      getTracer: (tracerName: string): Tracer =>
        ({
          startSpan: (name: string, options?: SpanOptions, ctx = context.active()) => {
            const parent = trace.getSpanContext(ctx);
            started.push({ name, options, parent, tracerName });
            const own: SpanContext = { traceId: parent?.traceId ?? ownIds.traceId, spanId: ownIds.spanId, traceFlags: TraceFlags.SAMPLED };
            return { spanContext: () => own } as unknown as Span;
          },
        }) as unknown as Tracer,
    };
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(() => trace.disable());
  beforeEach(() => (started.length = 0));

  const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('starts a consumer span, child of the remote parent, and passes on its own span id', () => {
    const { traceparent } = startRecordSpan('process orders', parent, { 'messaging.kafka.partition': 3 });
    expect(traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-bbbbbbbbbbbbbbbb-01');
    expect(started).toEqual([
      {
        name: 'process orders',
        tracerName: '@app/runtime',
        options: { kind: SpanKind.CONSUMER, attributes: { 'messaging.kafka.partition': 3 } },
        parent: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true },
      },
    ]);
  });

  it('roots a new trace when the input has no valid traceparent', () => {
    const { traceparent } = startRecordSpan('p', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', {});
    expect(started[0].parent).toBeUndefined();
    expect(traceparent).toBe(`00-${ownIds.traceId}-${ownIds.spanId}-01`);
  });
});

describe('traceparent parsing', () => {
  const ids = '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7';

  it('uses the W3C header name', () => {
    expect(TRACEPARENT).toBe('traceparent');
  });

  it('accepts surrounding whitespace but nothing else around the value', () => {
    expect(parseTraceparent(` 00-${ids}-00 `)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 0 });
    expect(parseTraceparent(`x00-${ids}-01`)).toBeUndefined();
    expect(parseTraceparent(`00-${ids}-01-extra`)).toBeUndefined();
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01')).toBeUndefined();
    expect(parseTraceparent('')).toBeUndefined();
  });
});
