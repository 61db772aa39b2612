import { ConfigError } from '@app/config';
import { createLogger } from '@app/logging';
import { startTracing } from './tracing';

const logger = createLogger({ service: 'tracing-spec' }, 'error');

describe('startTracing', () => {
  it('registers nothing unless an OTLP endpoint is configured, or when the exporter is set to none', () => {
    expect(startTracing('svc', {}, logger)).toBeUndefined();
    expect(startTracing('svc', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' }, logger)).toBeUndefined();
  });

  it('refuses an endpoint that is not an http(s) URL, naming the variable', () => {
    expect(() => startTracing('svc', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector:4317' }, logger)).toThrow(ConfigError);
    expect(() => startTracing('svc', { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, logger)).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});
