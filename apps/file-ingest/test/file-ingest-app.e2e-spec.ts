/**
 * The file-ingest app: a source on a cron schedule (every second) is synced without being asked, and
 * /health, /metrics, GET /sources and POST /sources/:name/run answer.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '@app/config';
import { stateKey } from '@app/ingest';
import { createLogger } from '@app/logging';
import { createObjectStore } from '@app/object-store';
import { waitFor } from '@app/testing';
import { FileIngestModule } from '../src/file-ingest.module';

const work = mkdtempSync(join(tmpdir(), 'file-ingest-app-'));
const lakeUrl = pathToFileURL(join(work, 'lake')).toString();
const config = loadConfig(process.env, { service: 'file-ingest', defaultHttpPort: 0 });
let app: INestApplication;
let baseUrl: string;

beforeAll(async () => {
  mkdirSync(join(work, 'exports'), { recursive: true });
  writeFileSync(join(work, 'exports', 'a.csv'), 'x,y\n1,2\n');
  const sources = [{ name: 'scheduled', from: join(work, 'exports'), schedule: '* * * * * *', inventory: [] }];
  app = await NestFactory.create(FileIngestModule.forRoot(config, createLogger({ service: 'file-ingest-test' }, 'warn'), { LAKE_URL: lakeUrl, FILE_INGEST_SOURCES: JSON.stringify(sources) }), { logger: false });
  await app.listen(0, '127.0.0.1');
  baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
});

afterAll(async () => {
  await app?.close();
  rmSync(work, { recursive: true, force: true });
});

it('runs the source on its schedule and reports it over HTTP and in the metrics', async () => {
  const store = createObjectStore(lakeUrl, config.objectStore);
  await waitFor(() => store.head(stateKey('scheduled')), { timeoutMs: 15_000, what: 'a scheduled run' });
  expect((await store.list('files/scheduled/dt=')).map((o) => o.key)).toContainEqual(expect.stringMatching(/^files\/scheduled\/dt=\d{4}-\d{2}-\d{2}\/a\.csv$/));

  expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
  const sources = await waitFor(async () => {
    const list = (await (await fetch(`${baseUrl}/sources`)).json()) as { name: string; nextRunAt?: string; lastReport?: { copied: number } }[];
    return list[0]?.lastReport ? list : undefined;
  }, { what: 'the last report' });
  expect(sources[0]).toMatchObject({ name: 'scheduled', schedule: '* * * * * *', nextRunAt: expect.any(String) });

  const now = await fetch(`${baseUrl}/sources/scheduled/run`, { method: 'POST' });
  expect(now.status).toBe(200);
  expect(await now.json()).toMatchObject({ source: 'scheduled', copied: 0, skipped: 1, failed: 0 });
  expect((await fetch(`${baseUrl}/sources/unknown/run`, { method: 'POST' })).status).toBe(404);

  const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
  expect(metrics).toMatch(/file_ingest_files_total\{source="scheduled",outcome="copied"[^}]*\} 1/);
});
