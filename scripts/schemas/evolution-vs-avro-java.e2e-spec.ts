/**
 * Our gate and codec against Apache Avro Java, case by case (scripts/schemas/evolution-cases.ts).
 * Avro Java runs for real (fetched from Maven Central once, cached in .local-stack/avro-java/): the
 * table's "Avro Java" column is what SchemaCompatibility answers, not what we believe it answers.
 */
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { avroSchema, parseAvroSchema, RegistryCodec, SchemaMismatchError } from '@app/codec';
import { avroJavaVerdicts, type JavaVerdict } from './avro-java';
import { incompatibilities } from './compatibility';
import { evolutionCases, sampleRecords, schemasOf } from './evolution-cases';

// One writer schema per id, as the registry would hand it out.
function codecReading(writer: object) {
  const json = JSON.stringify(writer);
  const registry = { getSchema: async () => parseAvroSchema(json), getRegistryIdBySchema: async () => 1 };
  return new RegistryCodec(registry as unknown as SchemaRegistry, { autoRegister: false });
}

describe('schema evolution: our gate and codec against Avro Java', () => {
  let java: JavaVerdict[];
  beforeAll(() => {
    java = avroJavaVerdicts(evolutionCases.map((c) => {
      const { writer, reader } = schemasOf(c);
      return { writer: JSON.stringify(writer), reader: JSON.stringify(reader) };
    }));
  });

  it.each(evolutionCases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const { writer, reader } = schemasOf(c);
    expect({ case: c.name, javaAccepts: java[i].compatible, detail: java[i].detail.startsWith('parse error') ? java[i].detail : '' }).toEqual({
      case: c.name,
      javaAccepts: c.javaAccepts,
      detail: '',
    });
    const gate = incompatibilities(JSON.stringify(reader), JSON.stringify(writer));
    expect({ case: c.name, gateAccepts: gate.length === 0 }).toEqual({ case: c.name, gateAccepts: c.gateAccepts });
    if (c.gateAccepts !== c.javaAccepts) expect(c.difference).toEqual(expect.any(String));
    else expect(c.difference).toBeUndefined();

    // The codec agrees with the gate: what the gate accepts it reads (correctly), what it refuses it refuses.
    const codec = codecReading(writer);
    const serializer = await codec.serializerFor('t', avroSchema(writer));
    const deserializer = codec.deserializerFor(avroSchema(reader));
    const sample = sampleRecords(c);
    if (c.gateAccepts) {
      expect(sample).toBeDefined();
      expect(await deserializer.decode(serializer.encode(sample!.written))).toEqual(sample!.read);
    } else {
      const probe = Buffer.from([0, 0, 0, 0, 1]);
      await expect(deserializer.decode(probe)).rejects.toBeInstanceOf(SchemaMismatchError);
    }
  });
});
