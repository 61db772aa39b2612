import { ConfigError } from '@app/config';
import { loadIngestSettings, nextRunAfter, sourceDefinition } from './ingest-settings';

describe('file-ingest settings', () => {
  it('defaults to the configured bucket, no sources, and the inventory request topic', () => {
    expect(loadIngestSettings({}, 'lake-bucket')).toMatchObject({ lakeUrl: 's3://lake-bucket/', sources: [], stockCountTopic: 'inventory-service.sku-requests', concurrency: 8, partSizeBytes: 8 * 1024 * 1024 });
  });

  it('reads sources from JSON with schedule, filters and bandwidth', () => {
    const settings = loadIngestSettings(
      { FILE_INGEST_SOURCES: JSON.stringify([{ name: 'wh-berlin', from: 'sftp://wh@10.0.0.5:22/exports', include: ['**/*.csv'], schedule: '*/15 * * * *', bandwidth: '5MiB/s' }]) },
      'lake-bucket',
    );
    expect(settings.sources).toEqual([
      expect.objectContaining({ name: 'wh-berlin', from: 'sftp://wh@10.0.0.5:22/exports', include: ['**/*.csv'], exclude: [], inventoryPatterns: ['**/inventory*.csv'], schedule: '*/15 * * * *', bandwidthBytesPerSecond: 5 * 1024 * 1024 }),
    ]);
  });

  it('names every bad variable', () => {
    const env = {
      LAKE_URL: 'ftp://x',
      FILE_INGEST_SOURCES: JSON.stringify([{ name: 'Bad Name', from: '/d', schedule: 'every minute' }]),
      FILE_INGEST_CONCURRENCY: '0',
      FILE_INGEST_PART_SIZE: '1MiB',
      FILE_INGEST_STOCK_TOPIC: 'a topic',
    };
    try {
      loadIngestSettings(env, 'b');
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['FILE_INGEST_CONCURRENCY', 'FILE_INGEST_PART_SIZE', 'FILE_INGEST_SOURCES', 'FILE_INGEST_STOCK_TOPIC', 'LAKE_URL']);
      expect((err as ConfigError).message).toMatch(/not a valid cron expression/);
    }
  });

  it('refuses a source defined twice', () => {
    expect(() => loadIngestSettings({ FILE_INGEST_SOURCES: '[{"name":"a","from":"/x"},{"name":"a","from":"/y"}]' }, 'lake-bucket')).toThrow(/defined twice/);
  });

  it('computes the next cron run in UTC', () => {
    expect(nextRunAfter('0 2 * * *', new Date('2026-11-28T10:00:00Z')).toISOString()).toBe('2026-11-29T02:00:00.000Z');
    expect(nextRunAfter('*/10 * * * * *', new Date('2026-11-28T10:00:01Z')).toISOString()).toBe('2026-11-28T10:00:10.000Z');
  });

  it('checks a CLI source the same way', () => {
    expect(() => sourceDefinition({ name: 'ok', from: '' })).toThrow(/from/);
    expect(sourceDefinition({ name: 'ok', from: '/d', bandwidth: 1000 })).toMatchObject({ bandwidthBytesPerSecond: 1000 });
  });
});
