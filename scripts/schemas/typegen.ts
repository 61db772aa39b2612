/**
 * Turns Avro schemas into TypeScript declarations. Logical types map to what the codec produces:
 * decimal → Decimal (exact string), timestamp-millis → Date. Named types become exported
 * interfaces (records) or string-literal unions (enums); each schema's JSON is embedded so services
 * and tools use exactly what the registry holds.
 */

type AvroJson = string | AvroJson[] | { [key: string]: unknown };

interface Emitted {
  declarations: string[];
  needsDecimal: boolean;
  needsEnvelope: boolean;
  seen: Set<string>;
  /** Kind (record, enum, fixed) of each named type declared so far, by short name. */
  kinds: Map<string, string>;
}

const PRIMITIVES: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

/** avsc's bucket of a union branch: two branches in one bucket make the union ambiguous. */
function unionBucket(branch: AvroJson, out: Emitted): string {
  const type = typeof branch === 'string' ? (branch in PRIMITIVES ? branch : (out.kinds.get(shortName(branch)) ?? branch)) : Array.isArray(branch) ? 'union' : String(branch.type);
  // The platform's logical types are not counted by avsc; unknown ones (uuid) fall back to their type.
  const logical = typeof branch === 'object' && !Array.isArray(branch) ? String(branch.logicalType ?? '') : '';
  if (['decimal', 'timestamp-millis', 'timestamp-micros'].includes(logical)) return `logical:${logical}:${type}`;
  switch (type) {
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return 'number';
    case 'bytes':
    case 'fixed':
      return 'buffer';
    case 'enum':
    case 'string':
      return 'string';
    case 'map':
    case 'record':
      return 'object';
    default:
      return type;
  }
}

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function docComment(doc: unknown, indent = ''): string {
  if (typeof doc !== 'string' || doc.length === 0) return '';
  return `${indent}/** ${doc.replace(/\*\//g, '*\\/')} */\n`;
}

function tsType(schema: AvroJson, out: Emitted): string {
  if (typeof schema === 'string') {
    if (schema in PRIMITIVES) return PRIMITIVES[schema];
    return shortName(schema); // reference to a named type declared earlier
  }
  if (Array.isArray(schema)) {
    const types = schema.map((branch) => tsType(branch, out));
    // The codec wraps an ambiguous union (`{ "<branch>": value }`, see @app/codec's avroTypeOptions);
    // a plain `A | B` here would describe values the codec never produces.
    const buckets = schema.map((branch) => unionBucket(branch, out));
    if (new Set(buckets).size < buckets.length) {
      throw new Error(
        `ambiguous union ${JSON.stringify(schema)}: the codec reads it wrapped ({ "<branch>": value }), ` +
          'which the type generator does not emit; declare that type by hand',
      );
    }
    return types.join(' | ');
  }
  const logicalType = schema.logicalType;
  if (logicalType === 'decimal' && schema.type === 'bytes') {
    out.needsDecimal = true;
    return 'Decimal';
  }
  if (logicalType === 'timestamp-millis' && schema.type === 'long') return 'Date';
  switch (schema.type) {
    case 'record':
      return declareRecord(schema, out);
    case 'enum':
      return declareEnum(schema, out);
    case 'array':
      return `Array<${tsType(schema.items as AvroJson, out)}>`;
    case 'map':
      return `Record<string, ${tsType(schema.values as AvroJson, out)}>`;
    case 'fixed':
      return 'Buffer';
    default:
      return tsType(schema.type as AvroJson, out);
  }
}

type AvroField = { name: string; type: AvroJson; doc?: string };

/** The fields every event starts with (see `EventEnvelope`), as they must appear in its schema. */
const ENVELOPE_FIELDS: { name: string; type: string }[] = [
  { name: 'eventId', type: JSON.stringify({ type: 'string', logicalType: 'uuid' }) },
  { name: 'occurredAt', type: JSON.stringify({ type: 'long', logicalType: 'timestamp-millis' }) },
  { name: 'producer', type: JSON.stringify('string') },
  { name: 'correlationId', type: JSON.stringify('string') },
];

function startsWithEnvelope(fields: AvroField[]): boolean {
  return ENVELOPE_FIELDS.every((e, i) => fields[i]?.name === e.name && JSON.stringify(fields[i].type) === e.type);
}

function declareRecord(schema: { [key: string]: unknown }, out: Emitted, root = false): string {
  const name = shortName(String(schema.name));
  if (out.seen.has(name)) return name;
  out.seen.add(name);
  out.kinds.set(name, 'record');
  let fields = schema.fields as AvroField[];
  const extendsEnvelope = root && startsWithEnvelope(fields);
  if (extendsEnvelope) {
    fields = fields.slice(ENVELOPE_FIELDS.length);
    out.needsEnvelope = true;
  }
  const members = fields.map((field) => `${docComment(field.doc, '  ')}  ${field.name}: ${tsType(field.type, out)};\n`);
  const heritage = extendsEnvelope ? ' extends EventEnvelope' : '';
  out.declarations.push(`${docComment(schema.doc)}export interface ${name}${heritage} {\n${members.join('')}}\n`);
  return name;
}

/** The shared envelope every event type extends, so tools (sink, DLQ) can read any event's identity. */
export function generateEnvelopeModule(): string {
  return (
    '// Generated by `npm run schemas:gen`. Do not edit.\n\n' +
    '/** Fields every platform event starts with. */\n' +
    'export interface EventEnvelope {\n' +
    '  /** Unique id of this event (UUID); consumers deduplicate on it. */\n' +
    '  eventId: string;\n' +
    '  /** When the business fact happened (UTC); the lake partitions by it. */\n' +
    '  occurredAt: Date;\n' +
    '  /** Service or collector that published the event. */\n' +
    '  producer: string;\n' +
    '  /** Id tying related events together: the order id for order flows, the session id for clickstream. */\n' +
    '  correlationId: string;\n' +
    '}\n'
  );
}

function declareEnum(schema: { [key: string]: unknown }, out: Emitted): string {
  const name = shortName(String(schema.name));
  if (out.seen.has(name)) return name;
  out.seen.add(name);
  out.kinds.set(name, 'enum');
  const symbols = schema.symbols as string[];
  out.declarations.push(
    `${docComment(schema.doc)}export type ${name} = ${symbols.map((s) => `'${s}'`).join(' | ')};\n` +
      `export const ${name}Values: readonly ${name}[] = [${symbols.map((s) => `'${s}'`).join(', ')}];\n`,
  );
  return name;
}

/** The TypeScript module for one `.avsc` file. */
export function generateModule(schemaText: string, sourceFile: string): string {
  const schema = JSON.parse(schemaText) as { [key: string]: unknown };
  const out: Emitted = { declarations: [], needsDecimal: false, needsEnvelope: false, seen: new Set(), kinds: new Map() };
  const rootName = declareRecord(schema, out, true);
  const header =
    `// Generated by \`npm run schemas:gen\` from ${sourceFile}. Do not edit: change the schema and regenerate.\n` +
    (out.needsDecimal ? `import type { Decimal } from '@app/codec';\n` : '') +
    (out.needsEnvelope ? `import type { EventEnvelope } from './event-envelope';\n` : '');
  const schemaConst = `\n/** The Avro schema of ${rootName}, exactly as in ${sourceFile}. */\nexport const ${rootName}Schema = ${JSON.stringify(schema, null, 2)} as const;\n`;
  return `${header}\n${out.declarations.join('\n')}${schemaConst}`;
}

/** File name (kebab-case) of the generated module for an .avsc file name. */
export function moduleNameFor(avscFile: string): string {
  return avscFile.replace(/\.avsc$/, '');
}

/** The barrel that re-exports every generated module. */
export function generateIndex(moduleNames: string[]): string {
  return (
    '// Generated by `npm run schemas:gen`. Do not edit.\n' +
    moduleNames.sort().map((m) => `export * from './${m}';\n`).join('')
  );
}
