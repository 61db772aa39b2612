/**
 * Athena / Glue `CREATE EXTERNAL TABLE` statements for the curated lake, derived from the Avro
 * schemas: one table per topic over `curated/<topic>/`, partitioned by `dt` and `hour` with partition
 * projection, so no crawler or `MSCK REPAIR` is needed when hours appear.
 */
import type { AvroSchema } from '@app/codec';
import { LINEAGE_COLUMNS, eventColumns, tableNameOf } from './parquet-columns';

export interface CatalogDdlOptions {
  /** `s3://bucket/prefix/` of the lake (the curated tables live under `curated/`). */
  lakeUrl: string;
  database: string;
  /** First day partition projection enumerates, `YYYY-MM-DD`. */
  projectionStartDay: string;
}

function sqlText(text: string): string {
  return `'${text.replace(/'/g, "''").replace(/\s+/g, ' ').trim()}'`;
}

/** The DDL of one topic's curated table. */
export function catalogDdl(topic: string, schema: AvroSchema, options: CatalogDdlOptions): string {
  const root = options.lakeUrl.endsWith('/') ? options.lakeUrl : `${options.lakeUrl}/`;
  const location = `${root}curated/${topic}/`;
  const columns = [
    ...eventColumns(schema.type, 'hive').map((c) => ({ name: c.name, type: c.type, doc: c.doc })),
    ...LINEAGE_COLUMNS.map((c) => ({ name: c.name, type: c.hive, doc: c.doc })),
  ];
  const width = Math.max(...columns.map((c) => c.name.length)) + 2;
  const lines = columns.map((c) => `  ${`\`${c.name}\``.padEnd(width)} ${c.type}${c.doc ? ` COMMENT ${sqlText(c.doc)}` : ''}`);
  const properties: [string, string][] = [
    ['classification', 'parquet'],
    ['parquet.compression', 'ZSTD'],
    ['projection.enabled', 'true'],
    ['projection.dt.type', 'date'],
    ['projection.dt.format', 'yyyy-MM-dd'],
    ['projection.dt.range', `${options.projectionStartDay},NOW`],
    ['projection.dt.interval', '1'],
    ['projection.dt.interval.unit', 'DAYS'],
    ['projection.hour.type', 'integer'],
    ['projection.hour.range', '0,23'],
    ['projection.hour.digits', '2'],
    ['storage.location.template', `${location}dt=\${dt}/hour=\${hour}/`],
  ];
  return [
    `CREATE EXTERNAL TABLE IF NOT EXISTS \`${options.database}\`.\`${tableNameOf(topic)}\` (`,
    lines.join(',\n'),
    `)`,
    `COMMENT ${sqlText(`Curated ${topic}: one row per distinct event (dedup by eventId), sorted by event time.`)}`,
    `PARTITIONED BY (\`dt\` string, \`hour\` string)`,
    `STORED AS PARQUET`,
    `LOCATION '${location}'`,
    `TBLPROPERTIES (`,
    properties.map(([k, v]) => `  '${k}' = '${v}'`).join(',\n'),
    `);`,
  ].join('\n');
}
