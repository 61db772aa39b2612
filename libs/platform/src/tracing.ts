import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ConfigError } from '@app/config';
import type { Logger } from '@app/logging';

/** A registered OpenTelemetry SDK exporting spans over OTLP/HTTP. */
export interface Tracing {
  /** Where spans go (the OTLP traces URL). */
  readonly endpoint: string;
  /** Sends the spans still buffered; call before exit. */
  flush(): Promise<void>;
  /** Flushes, stops exporting and unregisters the SDK (the API falls back to non-recording spans). */
  shutdown(): Promise<void>;
}

function tracesEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  // The OTLP spec: the signal path is appended to the generic endpoint.
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/**
 * Exports the services' spans (the runtime's per-record consumer spans among them) over OTLP/HTTP when
 * the standard `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, unless
 * `OTEL_TRACES_EXPORTER=none`. Without it nothing is registered: the OpenTelemetry API hands out
 * non-recording spans and traceparent headers are still propagated. Headers for the collector come
 * from `OTEL_EXPORTER_OTLP_HEADERS`, read by the exporter itself (never logged).
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv, logger: Logger): Tracing | undefined {
  if (env.OTEL_TRACES_EXPORTER?.trim() === 'none') return undefined;
  const endpoint = tracesEndpoint(env);
  if (!endpoint) return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    const variable = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
    throw new ConfigError([{ variable, message: `expected an http(s) URL of an OTLP/HTTP collector, e.g. http://127.0.0.1:4318` }]);
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || service }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }))],
  });
  provider.register();
  // Only origin and path: credentials in the URL never reach the logs.
  logger.info('exporting traces over OTLP/HTTP', { endpoint: `${url.origin}${url.pathname}` });
  return {
    endpoint,
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
    },
  };
}
