/**
 * OTLP export as a service runs it (its own Node process, the exporter's real HTTP transport): with
 * OTEL_EXPORTER_OTLP_ENDPOINT set, the runtime's record span reaches a collector on loopback as the
 * child of the input's traceparent, under the service's name, and the outputs' traceparent names it.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const inputTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const inputSpanId = '00f067aa0ba902b7';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}
interface ResourceSpans {
  resource: { attributes: { key: string; value: { stringValue?: string } }[] };
  scopeSpans: { spans: ExportedSpan[] }[];
}

it('exports record spans over OTLP/HTTP to the configured collector', async () => {
  const requests: { path: string; body: { resourceSpans: ResourceSpans[] } }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { stdout } = await run(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(__dirname, 'fixtures/export-one-span.ts'), `00-${inputTraceId}-${inputSpanId}-01`],
      { env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, timeout: 60_000 },
    );
    expect(requests.map((r) => r.path)).toEqual(['/v1/traces']);
    const resourceSpans = requests[0].body.resourceSpans;
    expect(resourceSpans[0].resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue).toBe('order-service');
    const spans = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ name: 'orders.order-placed.v1 process', traceId: inputTraceId, parentSpanId: inputSpanId });
    expect(stdout).toBe(`00-${inputTraceId}-${spans[0].spanId}-01`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
