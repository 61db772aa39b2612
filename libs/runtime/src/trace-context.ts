import { randomBytes } from 'node:crypto';
import { context, SpanKind, trace, TraceFlags, type Span } from '@opentelemetry/api';

export const TRACEPARENT = 'traceparent';
const TRACEPARENT_FORMAT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: number;
}

/** W3C trace context: `00-<trace-id>-<parent-id>-<flags>`; anything else is no parent. */
export function parseTraceparent(header: string | undefined): TraceParent | undefined {
  const match = header ? TRACEPARENT_FORMAT.exec(header.trim()) : null;
  if (!match || match[1] === ZERO_TRACE || match[2] === ZERO_SPAN) return undefined;
  return { traceId: match[1], spanId: match[2], flags: parseInt(match[3], 16) };
}

export function formatTraceparent({ traceId, spanId, flags }: TraceParent): string {
  return `00-${traceId}-${spanId}-${flags.toString(16).padStart(2, '0')}`;
}

/** One record's processing span and the traceparent its outputs carry (the span is their parent). */
export interface RecordTrace {
  span: Span;
  traceparent: string;
}

const tracer = () => trace.getTracer('@app/runtime');

/**
 * Starts a consumer span as a child of the input's traceparent (or a new trace). With no OpenTelemetry
 * SDK registered the API hands back a non-recording span that only echoes its parent, so the child span
 * id is generated here: outputs always continue the input's trace with a span id of their own.
 */
export function startRecordSpan(name: string, parentHeader: string | undefined, attributes: Record<string, string | number>): RecordTrace {
  const parent = parseTraceparent(parentHeader);
  const parentContext = parent
    ? trace.setSpanContext(context.active(), { traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.flags, isRemote: true })
    : context.active();
  const span = tracer().startSpan(name, { kind: SpanKind.CONSUMER, attributes }, parentContext);
  const own = span.spanContext();
  const recording = own.traceId !== ZERO_TRACE && own.spanId !== ZERO_SPAN && own.spanId !== parent?.spanId;
  const traceparent = formatTraceparent(
    recording
      ? { traceId: own.traceId, spanId: own.spanId, flags: own.traceFlags }
      : {
          traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
          spanId: randomBytes(8).toString('hex'),
          flags: parent?.flags ?? TraceFlags.SAMPLED,
        },
  );
  return { span, traceparent };
}
