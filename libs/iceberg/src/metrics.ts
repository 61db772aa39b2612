/**
 * Column metrics of a written Parquet file for its manifest entry: value counts, null counts, NaN
 * counts and lower/upper bounds in Iceberg's single-value binary encoding (little-endian numbers,
 * timestamps as microseconds, UTF-8 strings, big-endian minimal two's complement for decimals).
 * Computed by DuckDB over the file itself, for every primitive field outside lists and maps.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import type { IcebergType, NestedField } from './schema';

export interface ColumnMetrics {
  recordCount: bigint;
  valueCounts: Map<number, bigint>;
  nullValueCounts: Map<number, bigint>;
  nanValueCounts: Map<number, bigint>;
  lowerBounds: Map<number, Buffer>;
  upperBounds: Map<number, Buffer>;
}

/** Bounds longer than this are left out (optional in the spec; a truncated upper bound needs care). */
const MAX_BOUND_BYTES = 64;

/** Minimal big-endian two's complement of an integer (Iceberg's decimal encoding). */
export function twosComplementBigEndian(value: bigint): Buffer {
  const bytes: number[] = [];
  let v = value;
  for (;;) {
    const byte = Number(v & 0xffn);
    bytes.unshift(byte);
    v >>= 8n;
    const signBit = (byte & 0x80) !== 0;
    if ((v === 0n && !signBit) || (v === -1n && signBit)) break;
  }
  return Buffer.from(bytes);
}

/** The unscaled integer of a decimal's text (`-12.50` at scale 2 → -1250n). */
export function unscaledDecimal(text: string, scale: number): bigint {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = text.replace(/^[-+]/, '').split('.');
  const digits = whole + fraction.padEnd(scale, '0').slice(0, scale);
  const n = BigInt(digits || '0');
  return negative ? -n : n;
}

/** Iceberg's single-value serialization of a bound, or undefined when it is left out. */
export function encodeBound(type: IcebergType, value: unknown): Buffer | undefined {
  if (value === null || value === undefined || typeof type !== 'string') return undefined;
  switch (type) {
    case 'boolean':
      return Buffer.from([value ? 1 : 0]);
    case 'int':
    case 'date': {
      const b = Buffer.alloc(4);
      b.writeInt32LE(Number(value));
      return b;
    }
    case 'long':
    case 'timestamptz': {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(value as bigint | number));
      return b;
    }
    case 'float': {
      const b = Buffer.alloc(4);
      b.writeFloatLE(Number(value));
      return b;
    }
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(Number(value));
      return b;
    }
    case 'string': {
      const b = Buffer.from(String(value), 'utf8');
      return b.length <= MAX_BOUND_BYTES ? b : undefined;
    }
    case 'binary': {
      const b = Buffer.from(String(value), 'hex');
      return b.length <= MAX_BOUND_BYTES ? b : undefined;
    }
    default: {
      const dec = /^decimal\((\d+), (\d+)\)$/.exec(type);
      if (dec) return twosComplementBigEndian(unscaledDecimal(String(value), Number(dec[2])));
      return undefined;
    }
  }
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

interface Leaf {
  id: number;
  type: IcebergType;
  sql: string;
}

/** Primitive fields reachable through structs only (list and map contents have no per-row value). */
function leaves(fields: readonly NestedField[], prefix = ''): Leaf[] {
  const out: Leaf[] = [];
  for (const f of fields) {
    const sql = prefix ? `${prefix}.${ident(f.name)}` : ident(f.name);
    if (typeof f.type === 'string') out.push({ id: f.id, type: f.type, sql });
    else if (f.type.type === 'struct') out.push(...leaves(f.type.fields, sql));
  }
  return out;
}

function boundSql(leaf: Leaf, fn: 'min' | 'max'): string {
  const x = leaf.sql;
  switch (leaf.type) {
    case 'int':
    case 'long':
    case 'date':
      return `${fn}(${x})::BIGINT`;
    case 'boolean':
      return `${fn}(${x}::INTEGER)`;
    case 'float':
    case 'double':
      return `${fn}(${x}) FILTER (WHERE NOT isnan(${x}))::DOUBLE`;
    case 'timestamptz':
      return `epoch_us(${fn}(${x}))`;
    case 'binary':
      return `hex(${fn}(${x}))`;
    default:
      return `${fn}(${x})::VARCHAR`;
  }
}

/** Metrics of one Parquet file (local path) whose columns are `fields`. */
export async function parquetMetrics(path: string, fields: readonly NestedField[]): Promise<ColumnMetrics> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const list = leaves(fields);
    const select = ['count(*)::BIGINT'];
    for (const leaf of list) {
      select.push(`count(${leaf.sql})::BIGINT`, boundSql(leaf, 'min'), boundSql(leaf, 'max'));
      if (leaf.type === 'float' || leaf.type === 'double') select.push(`count(*) FILTER (WHERE isnan(${leaf.sql}))::BIGINT`);
    }
    const reader = await connection.runAndReadAll(`SELECT ${select.join(', ')} FROM read_parquet('${path.replace(/'/g, "''")}')`);
    const row = reader.getRows()[0] as unknown[];
    const recordCount = row[0] as bigint;
    const metrics: ColumnMetrics = {
      recordCount,
      valueCounts: new Map(),
      nullValueCounts: new Map(),
      nanValueCounts: new Map(),
      lowerBounds: new Map(),
      upperBounds: new Map(),
    };
    let i = 1;
    for (const leaf of list) {
      const nonNull = row[i++] as bigint;
      const min = row[i++];
      const max = row[i++];
      metrics.valueCounts.set(leaf.id, recordCount);
      metrics.nullValueCounts.set(leaf.id, recordCount - nonNull);
      if (leaf.type === 'float' || leaf.type === 'double') metrics.nanValueCounts.set(leaf.id, row[i++] as bigint);
      const lower = encodeBound(leaf.type, min);
      const upper = encodeBound(leaf.type, max);
      if (lower && upper) {
        metrics.lowerBounds.set(leaf.id, lower);
        metrics.upperBounds.set(leaf.id, upper);
      }
    }
    return metrics;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
