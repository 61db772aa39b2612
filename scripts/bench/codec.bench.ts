// npm run bench:codec — framed (Confluent wire format via the registry codec) encode+decode round
// trips against bare avsc toBuffer/fromBuffer and JSON on the same records, in one process. Every round
// runs every variant once, in an order rotated from round to round (so no variant always runs first or
// right after the same neighbour), and each variant's rate is divided by bare avsc's rate of the SAME
// round: the spread of those paired ratios (min / median / max) is the result, not one lucky median.
// Every decoded record of every round is compared with the record that was encoded.
import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { loadConfig } from '@app/config';
import { createSchemaRegistry, RegistryCodec, RegistryRequestCounter } from '@app/codec';
import { exampleEvents, topics, type OrderPlaced } from '@app/contracts';
import { uniqueName } from '@app/testing';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const WARM_UP_ROUNDS = 3;
const BASELINE = 'bare avsc';

function quantiles(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

/** A record as plain, key-sorted JSON (Dates as ISO strings), so every variant's output compares alike. */
function canonical(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    if (v instanceof Date || (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v))) return new Date(v as string).toISOString();
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
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
  const expected = records.map(canonical);

  // Warm-up: the schema id lookup and the writer schema fetch happen here, and only here.
  const serializer = await codec.serializerFor<OrderPlaced>(uniqueName('bench.order-placed.v1'), schema);
  const deserializer = codec.deserializerFor<OrderPlaced>(schema);
  for (const r of records.slice(0, 200)) await deserializer.decode(serializer.encode(r));
  const warmUpCalls = counter.count;

  // Each variant returns what it decoded (checked after the clock stops) or the reason it failed.
  const variants: Record<string, () => Promise<unknown[]> | unknown[]> = {
    [BASELINE]: () => records.map((r) => type.fromBuffer(type.toBuffer(r))),
    'framed, decodeAll (batch)': async () =>
      (await deserializer.decodeAll(records.map((r) => serializer.encode(r)))).map((d) => (d.ok ? d.value : d.error)),
    'framed, await decode (per record)': async () => {
      const out: unknown[] = [];
      for (const r of records) out.push(await deserializer.decode(serializer.encode(r)));
      return out;
    },
    'JSON stringify/parse': () => records.map((r) => JSON.parse(JSON.stringify(r))),
  };
  const names = Object.keys(variants);

  const rates: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  let verified = 0;
  for (let round = 0; round < WARM_UP_ROUNDS + ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const start = performance.now();
      const decoded = await variants[name]();
      const seconds = (performance.now() - start) / 1000;
      // Outside the timing: every record of every round must have come back intact.
      if (decoded.length !== RECORDS) throw new Error(`${name}, round ${round}: ${decoded.length} of ${RECORDS} records`);
      decoded.forEach((d, i) => {
        if (d instanceof Error) throw new Error(`${name}, round ${round}, record ${i}: ${d.message}`);
        if (canonical(d) !== expected[i]) throw new Error(`${name}, round ${round}, record ${i} differs from the record encoded`);
      });
      verified += decoded.length;
      if (round >= WARM_UP_ROUNDS) rates[name].push(RECORDS / seconds); // earlier rounds are JIT warm-up
    }
  }

  const ratios = (name: string) => rates[name].map((rate, round) => rate / rates[BASELINE][round]);
  const fmt = (n: number) => n.toFixed(2);
  console.log(`codec benchmark: OrderPlaced (${type.toBuffer(records[0]).length} bytes Avro), ${RECORDS} records x ${ROUNDS} rounds (+${WARM_UP_ROUNDS} warm-up), order rotated per round`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  console.log(`  ${'variant'.padEnd(36)} ${'median rate/s'.padStart(13)}   ratio to bare avsc, paired per round: min / median / max`);
  for (const name of names) {
    const r = quantiles(ratios(name));
    console.log(
      `  ${name.padEnd(36)} ${Math.round(quantiles(rates[name]).median).toLocaleString('en-US').padStart(13)}   ` +
        `${fmt(r.min)} / ${fmt(r.median)} / ${fmt(r.max)}`,
    );
  }
  const batch = quantiles(ratios('framed, decodeAll (batch)'));
  console.log(`framed (batch) / bare avsc >= 0.90 in ${ratios('framed, decodeAll (batch)').filter((x) => x >= 0.9).length} of ${ROUNDS} rounds (median ${fmt(batch.median)})`);
  console.log(`verified: ${verified.toLocaleString('en-US')} decoded records, every one equal to the record encoded`);
  console.log(`registry calls: ${warmUpCalls} during warm-up, ${counter.count - warmUpCalls} after warm-up`);
}

main().catch((err: Error) => {
  console.error(`bench:codec failed: ${err.message}`);
  process.exit(1);
});
