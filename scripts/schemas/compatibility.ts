/**
 * Local compatibility gate: can the new schema (reader) read data written with an earlier version
 * (writer)? That is the registry's BACKWARD rule; checking every kept version makes it
 * BACKWARD_TRANSITIVE. avsc's resolver decides; the explanation walks both schemas to name the field.
 */
import * as avro from 'avsc';
import { createResolver, parseAvroSchema } from '@app/codec';

export interface Incompatibility {
  path: string;
  problem: string;
}

function canRead(reader: avro.Type, writer: avro.Type): boolean {
  try {
    // The codec's own resolution (same options): what the gate accepts, the codec can read.
    createResolver(reader, writer);
    return true;
  } catch {
    return false;
  }
}

function label(type: avro.Type): string {
  if (avro.Type.isType(type, 'logical')) {
    return `${(type as avro.types.LogicalType).underlyingType.typeName}/${type.typeName.replace('logical:', '')}`;
  }
  return type.name ?? type.typeName;
}

function unionBranches(type: avro.Type): avro.Type[] | undefined {
  return avro.Type.isType(type, 'union') ? (type as unknown as { types: avro.Type[] }).types : undefined;
}

/** `com.acme.Order` → `Order`: the Avro specification resolves named types by unqualified name. */
function unqualified(name: string | undefined): string | undefined {
  return name?.slice(name.lastIndexOf('.') + 1);
}

function sameName(reader: avro.Type, writer: avro.Type): boolean {
  const aliases = ((reader as unknown as { aliases?: string[] }).aliases ?? []).map(unqualified);
  const name = unqualified(writer.name);
  return unqualified(reader.name) === name || (name !== undefined && aliases.includes(name));
}

/**
 * The reader's union branch a writer value would land in: a named type (record, enum, fixed) only in
 * the branch of the same unqualified name or alias; anything else in the branch of the same kind.
 */
function matchingBranch(readerBranches: avro.Type[], writer: avro.Type): avro.Type | undefined {
  if (writer.name !== undefined) return readerBranches.find((b) => b.name !== undefined && sameName(b, writer));
  return (
    readerBranches.find((b) => b.typeName === writer.typeName) ??
    readerBranches.find((b) => canRead(b, writer))
  );
}

function explain(reader: avro.Type, writer: avro.Type, path: string, out: Incompatibility[]): void {
  const readerBranches = unionBranches(reader);
  const writerBranches = unionBranches(writer);
  if (readerBranches || writerBranches) {
    for (const branch of writerBranches ?? [writer]) {
      const target = readerBranches ? matchingBranch(readerBranches, branch) : reader;
      if (!target) {
        out.push({ path, problem: `values of type ${label(branch)} can no longer be read: the union lost that branch` });
      } else if (!canRead(target, branch)) {
        const before = out.length;
        explain(target, branch, path, out);
        if (out.length === before) {
          out.push({ path, problem: `type changed from ${label(branch)} to ${label(target)}, which cannot read the old values` });
        }
      }
    }
    return;
  }
  if (reader instanceof avro.types.RecordType && writer instanceof avro.types.RecordType) {
    if (!sameName(reader, writer)) {
      out.push({ path, problem: `record renamed from ${label(writer)} to ${label(reader)} without an alias` });
      return;
    }
    for (const field of reader.fields) {
      const fieldPath = `${path}.${field.name}`;
      const source = writer.fields.find((f) => f.name === field.name || field.aliases.includes(f.name));
      if (!source) {
        if (field.defaultValue() === undefined) {
          out.push({ path: fieldPath, problem: 'field added without a default: records written before it have no value for it' });
        }
        continue;
      }
      if (!canRead(field.type, source.type)) {
        const before = out.length;
        explain(field.type, source.type, fieldPath, out);
        if (out.length === before) {
          out.push({
            path: fieldPath,
            problem: `type changed from ${label(source.type)} to ${label(field.type)}, which cannot read the old values`,
          });
        }
      }
    }
    return;
  }
  if (reader instanceof avro.types.EnumType && writer instanceof avro.types.EnumType) {
    if (!sameName(reader, writer)) {
      out.push({ path, problem: `enum renamed from ${label(writer)} to ${label(reader)} without an alias` });
      return;
    }
    const kept = new Set(reader.symbols);
    const dropped = writer.symbols.filter((s) => !kept.has(s));
    out.push({ path, problem: `enum ${label(reader)} dropped ${dropped.join(', ')} and has no default to read them as` });
    return;
  }
  if (reader instanceof avro.types.ArrayType && writer instanceof avro.types.ArrayType) {
    explain(reader.itemsType, writer.itemsType, `${path}[]`, out);
  } else if (reader instanceof avro.types.MapType && writer instanceof avro.types.MapType) {
    explain(reader.valuesType, writer.valuesType, `${path}{}`, out);
  }
}

/** Why `readerText` cannot read data written with `writerText`; empty when it can. */
export function incompatibilities(readerText: string, writerText: string): Incompatibility[] {
  const reader = parseAvroSchema(readerText);
  const writer = parseAvroSchema(writerText);
  if (canRead(reader, writer)) return [];
  const out: Incompatibility[] = [];
  explain(reader, writer, label(reader), out);
  return out.length > 0 ? out : [{ path: label(reader), problem: 'the new schema cannot read records of the old one' }];
}
