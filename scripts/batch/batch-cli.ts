// Shared by the batch tools: settings, the lake, Kafka, and the orders-daily runner with progress on stderr.
import { loadBatchSettings, OrdersDailyRunner, type BatchSettings } from '@app/batch';
import { createKafkaClient } from '@app/kafka';
import { openLake, type LakeCli } from '../lake/lake-cli';

export interface BatchCli extends LakeCli {
  settings: BatchSettings;
}

export function openBatch(tool: string): BatchCli {
  const lake = openLake(tool);
  return { ...lake, settings: loadBatchSettings(process.env, lake.lakeUrl) };
}

export const JOBS = ['orders-daily'] as const;

export function ordersDailyRunner(cli: BatchCli): OrdersDailyRunner {
  return new OrdersDailyRunner({
    store: cli.store,
    kafka: createKafkaClient(cli.config.kafka),
    registry: cli.config.schemaRegistry,
    settings: cli.settings,
    onProgress: (line) => console.error(line),
  });
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`;
}
