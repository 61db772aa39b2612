import * as avro from 'avsc';
import { decimalFromBytes, decimalToBytes, type Decimal } from './decimal';

interface DecimalSchema {
  precision: number;
  scale?: number;
}

/** Avro `decimal` on `bytes`, surfaced as an exact {@link Decimal} string, never a float. */
export class DecimalLogicalType extends avro.types.LogicalType {
  readonly precision: number;
  readonly scale: number;

  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    const { precision, scale = 0 } = schema as unknown as DecimalSchema;
    if (!Number.isInteger(precision) || precision < 1) throw new Error('decimal needs a positive precision');
    if (!Number.isInteger(scale) || scale < 0 || scale > precision) throw new Error('decimal scale out of range');
    this.precision = precision;
    this.scale = scale;
  }

  protected override _fromValue(bytes: Buffer): Decimal {
    return decimalFromBytes(bytes, this.scale);
  }

  protected override _toValue(value: unknown): Buffer | undefined {
    if (typeof value !== 'string') return undefined; // avsc reports the value as invalid
    return decimalToBytes(value, this.scale, this.precision);
  }

  protected override _resolve(type: avro.Type): ((value: Decimal) => Decimal) | undefined {
    // Only the same scale reads back to the same amount; precision may widen. The writer's own
    // logical type has already turned the bytes into a Decimal.
    if (type instanceof DecimalLogicalType && type.scale === this.scale && type.precision <= this.precision) {
      return (value) => value;
    }
    return undefined;
  }

  protected override _export(schema: avro.Schema): void {
    Object.assign(schema as object, { precision: this.precision, scale: this.scale });
  }
}

/** Avro `timestamp-millis` on `long`, surfaced as a `Date`. */
export class TimestampMillisLogicalType extends avro.types.LogicalType {
  protected override _fromValue(millis: number): Date {
    return new Date(millis);
  }

  protected override _toValue(value: unknown): number | undefined {
    if (value instanceof Date) {
      const millis = value.getTime();
      return Number.isNaN(millis) ? undefined : millis;
    }
    return undefined;
  }

  protected override _resolve(type: avro.Type): ((value: Date | number) => Date) | undefined {
    // A writer with a timestamp logical type already produced a Date; a plain long/int writer gives millis.
    if (type instanceof TimestampMillisLogicalType || type instanceof TimestampMicrosLogicalType) {
      return (value) => value as Date;
    }
    if (avro.Type.isType(type, 'long', 'int')) return (millis) => new Date(millis as number);
    return undefined;
  }
}

/**
 * Avro `timestamp-micros` on `long`, surfaced as a `Date` (millisecond precision). Known so that a
 * micros writer is never taken for a plain long and read as millis, 1000 times too far in the future.
 */
export class TimestampMicrosLogicalType extends avro.types.LogicalType {
  protected override _fromValue(micros: number): Date {
    return new Date(Math.floor(micros / 1000));
  }

  protected override _toValue(value: unknown): number | undefined {
    if (value instanceof Date) {
      const millis = value.getTime();
      return Number.isNaN(millis) ? undefined : millis * 1000;
    }
    return undefined;
  }

  protected override _resolve(type: avro.Type): ((value: Date) => Date) | undefined {
    if (type instanceof TimestampMicrosLogicalType || type instanceof TimestampMillisLogicalType) return (value) => value;
    return undefined;
  }
}

export const logicalTypes = {
  decimal: DecimalLogicalType,
  'timestamp-millis': TimestampMillisLogicalType,
  'timestamp-micros': TimestampMicrosLogicalType,
};

/** avsc options every schema in the platform is parsed with. */
export const avroTypeOptions: Partial<avro.ForSchemaOptions> = {
  logicalTypes,
  // Decimals on fixed are not used; unknown logical types (uuid) fall back to their underlying type.
  assertLogicalTypes: false,
  // 'auto': a union is a plain value (`null | string`) unless that is ambiguous — ["int","long"], two
  // records, two maps... — and only then wrapped as `{ "<branch name>": value }`. Ordinary schemas keep
  // the fast unwrapped path; ambiguous ones, which Avro allows, parse instead of being refused.
  wrapUnions: 'auto',
};

/**
 * Resolution options for reading a writer's data with a reader's schema. The Avro specification
 * matches named types (records, enums, fixed) by their unqualified name, and Avro Java, Confluent and
 * Apicurio follow it: a namespace change alone is compatible. The gate and the codec both use these.
 */
export const resolverOptions: Readonly<{ ignoreNamespaces: true }> = Object.freeze({ ignoreNamespaces: true });

/** A resolver that reads `writer` data as `reader`, or throws why it cannot. */
export function createResolver(reader: avro.Type, writer: avro.Type): avro.Resolver {
  // avsc's typings omit createResolver's second argument.
  const withOptions = reader.createResolver as (this: avro.Type, w: avro.Type, opts: { ignoreNamespaces: boolean }) => avro.Resolver;
  // A fresh options object per call: avsc caches resolvers by type name in `opts.registry`.
  return withOptions.call(reader, writer, { ...resolverOptions });
}

/** Parses an Avro schema (JSON text or object) with the platform's logical types. */
export function parseAvroSchema(schema: string | avro.Schema): avro.Type {
  // avsc stores named types in `opts.registry`, creating it on the options object it is given: a
  // fresh object per schema keeps one schema's names from clashing with another's.
  return avro.Type.forSchema(typeof schema === 'string' ? JSON.parse(schema) : schema, { ...avroTypeOptions });
}
