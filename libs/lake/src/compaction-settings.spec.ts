import { ConfigError } from '@app/config';
import { compactionDefaults, loadCompactionSettings } from './compaction-settings';

describe('loadCompactionSettings', () => {
  it('defaults to 256 MiB files and 7 days of raw retention', () => {
    expect(loadCompactionSettings({})).toEqual({ targetFileBytes: 256 * 1024 * 1024, rawRetentionMs: compactionDefaults.rawRetentionMs });
  });

  it('reads sizes and durations with units', () => {
    expect(loadCompactionSettings({ LAKE_COMPACT_TARGET_BYTES: '64MiB', LAKE_RAW_RETENTION: '48h' })).toEqual({
      targetFileBytes: 64 * 1024 * 1024,
      rawRetentionMs: 48 * 3_600_000,
    });
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadCompactionSettings({ LAKE_COMPACT_TARGET_BYTES: 'huge', LAKE_RAW_RETENTION: 'a week' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['LAKE_COMPACT_TARGET_BYTES', 'LAKE_RAW_RETENTION']);
  });
});
