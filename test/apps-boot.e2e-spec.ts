/**
 * Every service boots as a Nest app against the real local stack, reports its broker, registry and
 * bucket reachable on /health/ready, serves Prometheus /metrics, and shuts down cleanly.
 */
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { loadConfig, type AppConfig } from '@app/config';
import { createLogger, type Logger } from '@app/logging';
import { NestJsonLogger } from '@app/platform';
import { OrderServiceModule } from '../apps/order-service/src/order-service.module';
import { InventoryServiceModule } from '../apps/inventory-service/src/inventory-service.module';
import { FraudServiceModule } from '../apps/fraud-service/src/fraud-service.module';
import { S3SinkModule } from '../apps/s3-sink/src/s3-sink.module';

const services: [string, (config: AppConfig, logger: Logger) => DynamicModule][] = [
  ['order-service', (c, l) => OrderServiceModule.forRoot(c, l)],
  ['inventory-service', (c, l) => InventoryServiceModule.forRoot(c, l)],
  ['fraud-service', (c, l) => FraudServiceModule.forRoot(c, l)],
  ['s3-sink', (c, l) => S3SinkModule.forRoot(c, l)],
];

describe.each(services)('%s', (service, rootModule) => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    const config = loadConfig(process.env, { service, defaultHttpPort: 0 });
    const logger = createLogger({ service }, 'warn');
    app = await NestFactory.create(rootModule(config, logger), { logger: new NestJsonLogger(logger) });
    app.enableShutdownHooks();
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(() => app?.close());

  it('is ready: broker, registry and lake bucket answer', async () => {
    const res = await fetch(`${baseUrl}/health/ready`);
    const body = await res.json();
    expect(body).toEqual({
      status: 'ready',
      service,
      checks: { kafka: { ok: true }, registry: { ok: true }, objectStore: { ok: true } },
    });
    expect(res.status).toBe(200);
  });

  it('serves Prometheus metrics labelled with the service', async () => {
    const res = await fetch(`${baseUrl}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toMatch(new RegExp(`process_cpu_user_seconds_total\\{service="${service}"\\}`));
  });
});
