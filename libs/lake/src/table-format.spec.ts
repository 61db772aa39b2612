import { ConfigError } from '@app/config';
import { loadCompactionSettings, parseTableFormats, tableFormatOf } from './compaction-settings';
import { icebergMaintenanceDefaults, loadIcebergMaintenanceSettings } from './iceberg-maintenance-settings';

describe('LAKE_TABLE_FORMAT', () => {
  it('is off (plain Parquet) unless set', () => {
    const settings = loadCompactionSettings({});
    expect(settings.tableFormats).toBeUndefined();
    expect(tableFormatOf(settings.tableFormats, 'orders.order-placed.v1')).toBe('parquet');
  });

  it('takes one format for every topic, or per topic with a default for the rest', () => {
    const all = loadCompactionSettings({ LAKE_TABLE_FORMAT: 'iceberg' }).tableFormats;
    expect(tableFormatOf(all, 'orders.order-placed.v1')).toBe('iceberg');
    const some = parseTableFormats('orders.order-placed.v1=iceberg, orders.order-rejected.v1 = Iceberg');
    expect(some).toEqual({ default: 'parquet', topics: { 'orders.order-placed.v1': 'iceberg', 'orders.order-rejected.v1': 'iceberg' } });
    expect(tableFormatOf(some as never, 'clicks.page-viewed.v1')).toBe('parquet');
    const except = parseTableFormats('iceberg,clicks.page-viewed.v1=parquet');
    expect(tableFormatOf(except as never, 'clicks.page-viewed.v1')).toBe('parquet');
    expect(tableFormatOf(except as never, 'orders.order-placed.v1')).toBe('iceberg');
  });

  it('names the variable when a format is unknown or a topic is missing', () => {
    for (const bad of ['delta', 'orders.order-placed.v1=hudi', '=iceberg']) {
      let error: unknown;
      try {
        loadCompactionSettings({ LAKE_TABLE_FORMAT: bad });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('LAKE_TABLE_FORMAT');
    }
  });
});

describe('lake:maintain settings', () => {
  it('defaults to Iceberg’s own retention and grace, and reads units', () => {
    expect(loadIcebergMaintenanceSettings({})).toEqual(icebergMaintenanceDefaults);
    expect(loadIcebergMaintenanceSettings({ LAKE_ICEBERG_SNAPSHOT_RETENTION: '2h', LAKE_ICEBERG_RETAIN_LAST: '3', LAKE_ICEBERG_MERGE_MANIFESTS_MIN: '0' })).toMatchObject({
      snapshotRetentionMs: 7_200_000,
      retainLast: 3,
      mergeManifestsMin: 0,
    });
  });

  it('names every bad variable', () => {
    expect(() => loadIcebergMaintenanceSettings({ LAKE_ICEBERG_ORPHAN_GRACE: 'soon', LAKE_ICEBERG_RETAIN_LAST: '0' })).toThrow(/LAKE_ICEBERG_ORPHAN_GRACE[\s\S]*LAKE_ICEBERG_RETAIN_LAST|LAKE_ICEBERG_RETAIN_LAST[\s\S]*LAKE_ICEBERG_ORPHAN_GRACE/);
  });
});

describe('LAKE_ICEBERG_CATALOG', () => {
  it('is the file-system catalog unless glue is asked for', () => {
    expect(loadCompactionSettings({}).icebergCatalog).toBeUndefined();
    expect(loadCompactionSettings({ LAKE_ICEBERG_CATALOG: 'filesystem' }).icebergCatalog).toBeUndefined();
  });

  it('reads the Glue database and endpoint; a loopback endpoint gets the local stack credentials', () => {
    expect(loadCompactionSettings({ LAKE_ICEBERG_CATALOG: 'glue', LAKE_GLUE_ENDPOINT: 'http://127.0.0.1:9000' }).icebergCatalog).toEqual({
      kind: 'glue',
      database: 'securecart_lake',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      credentials: { accessKeyId: 'securecart-local', secretAccessKey: 'securecart-local-secret' },
    });
    // On AWS: no endpoint, no explicit credentials (the default chain: task role, instance profile).
    expect(loadCompactionSettings({ LAKE_ICEBERG_CATALOG: 'glue', LAKE_GLUE_DATABASE: 'analytics', AWS_REGION: 'eu-west-1' }).icebergCatalog).toEqual({
      kind: 'glue',
      database: 'analytics',
      region: 'eu-west-1',
    });
  });

  it('names bad values', () => {
    expect(() => loadCompactionSettings({ LAKE_ICEBERG_CATALOG: 'hive', LAKE_GLUE_DATABASE: 'Bad-Name', LAKE_GLUE_ENDPOINT: 'nope' })).toThrow(
      /LAKE_ICEBERG_CATALOG[\s\S]*LAKE_GLUE_DATABASE[\s\S]*LAKE_GLUE_ENDPOINT/,
    );
  });
});
