// npm run bench:codec — framed (Confluent wire format via the registry codec) encode+decode round
// trips per second against bare avsc toBuffer/fromBuffer and JSON on the same records, measured side
// by side in one process, interleaved round by round so machine noise hits every variant alike.
import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { loadConfig } from '@app/config';
import { createSchemaRegistry, RegistryCodec, RegistryRequestCounter } from '@app/codec';
import { exampleEvents, topics, type OrderPlaced } from '@app/contracts';
import { uniqueName } from '@app/testing';

const RECORDS = 2_000;
const ROUNDS = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const config = loadConfig(process.env, { service: 'bench-codec', defaultHttpPort: 0 });
  const counter = new RegistryRequestCounter();
  const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry, counter), { autoRegister: true });
  const schema = topics.orderPlaced.schema;
  const type = schema.type;

  const records: OrderPlaced[] = Array.from({ length: RECORDS }, (_, i) => ({
    ...exampleEvents.orderPlaced,
    eventId: `6f1c0a52-3f5e-4b8e-9a57-${String(i).padStart(12, '0')}`,
    orderId: `ord-${i}`,
    customerId: `cus-${i % 97}`,
  }));

  // Warm-up: the schema id lookup and the writer schema fetch happen here, and only here.
  const serializer = await codec.serializerFor<OrderPlaced>(uniqueName('bench.order-placed.v1'), schema);
  const deserializer = codec.deserializerFor<OrderPlaced>(schema);
  for (const r of records.slice(0, 200)) await deserializer.decode(serializer.encode(r));
  const warmUpCalls = counter.count;

  let sink = 0; // keeps results alive so nothing is optimized away
  const variants: Record<string, () => Promise<void> | void> = {
    'bare avsc': () => {
      for (const r of records) sink += (type.fromBuffer(type.toBuffer(r)) as OrderPlaced).lineItems.length;
    },
    'framed, decodeAll (batch)': async () => {
      const decoded = await deserializer.decodeAll(records.map((r) => serializer.encode(r)));
      sink += decoded.filter((d) => d.ok).length;
    },
    'framed, await decode (per record)': async () => {
      for (const r of records) sink += (await deserializer.decode(serializer.encode(r))).lineItems.length;
    },
    'JSON stringify/parse': () => {
      for (const r of records) sink += (JSON.parse(JSON.stringify(r)) as OrderPlaced).lineItems.length;
    },
  };

  const rates: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let round = 0; round < ROUNDS + 2; round++) {
    for (const [name, run] of Object.entries(variants)) {
      const start = performance.now();
      await run();
      const seconds = (performance.now() - start) / 1000;
      if (round >= 2) rates[name].push(RECORDS / seconds); // first two rounds are JIT warm-up
    }
  }

  const bare = median(rates['bare avsc']);
  console.log(`codec benchmark: OrderPlaced (${type.toBuffer(records[0]).length} bytes Avro), ${RECORDS} records x ${ROUNDS} rounds, median`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  for (const [name, values] of Object.entries(rates)) {
    const rate = median(values);
    console.log(`  ${name.padEnd(36)} ${Math.round(rate).toLocaleString('en-US').padStart(10)} round trips/s   ratio vs bare ${(rate / bare).toFixed(2)}`);
  }
  console.log(`ratio framed(batch) / bare avsc: ${(median(rates['framed, decodeAll (batch)']) / bare).toFixed(2)} (target >= 0.90)`);
  console.log(`ratio framed(per record) / bare avsc: ${(median(rates['framed, await decode (per record)']) / bare).toFixed(2)}`);
  console.log(`ratio framed(batch) / JSON: ${(median(rates['framed, decodeAll (batch)']) / median(rates['JSON stringify/parse'])).toFixed(2)}`);
  console.log(`registry calls: ${warmUpCalls} during warm-up, ${counter.count - warmUpCalls} after warm-up`);
  if (sink < 0) console.log(sink);
}

main().catch((err: Error) => {
  console.error(`bench:codec failed: ${err.message}`);
  process.exit(1);
});
