/**
 * Which curated hours a day's build reads, and whether they are all compacted yet (the workflow's
 * first step). An hour counts as compacted when its raw hour is closed and the curated manifest's
 * sources cover every raw segment in the folder; hours whose raw segments expired count when a curated
 * manifest exists. Nothing can tell a day that had no events from one the sink has not landed yet, so
 * the day must also have ended `readyAfterMs` ago (the sink's allowed lateness).
 */
import type { ObjectStore } from '@app/object-store';
import { hourOfKey, parseRawSegmentKey, rawManifestKey, readCuratedManifest, type RawHourManifest } from '@app/lake';
import { topics } from '@app/contracts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The curated topics the orders_daily job reads (tests point it at their own topics). */
export interface OrderTopics {
  placed: string;
  confirmed: string;
  rejected: string;
  cancelled: string;
  fraudAssessed: string;
}

export const catalogOrderTopics: OrderTopics = {
  placed: topics.orderPlaced.name,
  confirmed: topics.orderConfirmed.name,
  rejected: topics.orderRejected.name,
  cancelled: topics.orderCancelled.name,
  fraudAssessed: topics.fraudAssessed.name,
};

/** `YYYY-MM-DD` → its UTC start; throws on anything else. */
export function dayStartMillis(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  const start = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== day) throw new Error(`not a day (YYYY-MM-DD): ${day}`);
  return start;
}

/** Every day from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = dayStartMillis(from); t <= dayStartMillis(to); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  if (days.length === 0) throw new Error(`--from ${from} is after --to ${to}`);
  return days;
}

/** The hours (`YYYY-MM-DDTHH`) a topic is read over: the day, plus `lookahead` hours for final events. */
export function hoursOf(day: string, lookaheadHours: number): string[] {
  const start = dayStartMillis(day);
  return Array.from({ length: 24 + lookaheadHours }, (_, i) => new Date(start + i * HOUR_MS).toISOString().slice(0, 13));
}

export interface HourState {
  topic: string;
  hour: string;
  state: 'empty' | 'compacted' | 'not-closed' | 'not-compacted';
  detail?: string;
}

export interface ReadinessReport {
  ready: boolean;
  /** When the day (with its lookahead) has ended and the lateness passed. */
  readyAt: string;
  hoursChecked: number;
  compactedHours: number;
  /** Hours holding the build back (at most 20 listed). */
  waitingFor: HourState[];
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  if (!(await store.head(key))) return undefined;
  return JSON.parse((await store.get(key)).toString('utf8')) as T;
}

/** Per topic and hour of the window: empty, compacted, or what is missing. */
export async function hourStates(store: ObjectStore, topicNames: readonly string[], day: string, lookaheadHours: number): Promise<HourState[]> {
  const hours = hoursOf(day, lookaheadHours);
  const days = [...new Set(hours.map((h) => h.slice(0, 10)))];
  const states: HourState[] = [];
  for (const topic of topicNames) {
    const raw = new Map<string, { key: string; size: number }[]>();
    const curated = new Set<string>();
    for (const d of days) {
      for (const o of await store.list(`raw/${topic}/dt=${d}/`)) {
        const seg = parseRawSegmentKey(o.key);
        if (seg && seg.topic === topic) raw.set(seg.hour, [...(raw.get(seg.hour) ?? []), { key: o.key, size: o.size }]);
      }
      for (const o of await store.list(`curated/${topic}/dt=${d}/`)) {
        const at = hourOfKey(o.key);
        if (at && at.file === '_manifest.json') curated.add(at.hour);
      }
    }
    // The hours' manifests are read in parallel: a day is 25 hours per topic.
    const perHour = await Promise.all(
      hours.map(async (hour): Promise<HourState> => {
        const segments = raw.get(hour) ?? [];
        if (segments.length === 0) return { topic, hour, state: curated.has(hour) ? 'compacted' : 'empty' };
        const rawManifest = await readJson<RawHourManifest>(store, rawManifestKey(topic, hour));
        if (!rawManifest) return { topic, hour, state: 'not-closed', detail: `${segments.length} raw segment(s), hour not closed` };
        const manifest = curated.has(hour) ? await readCuratedManifest(store, topic, hour) : undefined;
        const covered = new Map([...(manifest?.sources ?? []), ...(manifest?.expiredSources ?? [])].map((s) => [s.key, s.bytes]));
        const missing = segments.filter((s) => covered.get(s.key) !== s.size);
        if (missing.length === 0) return { topic, hour, state: 'compacted' };
        return { topic, hour, state: 'not-compacted', detail: manifest ? `${missing.length} segment(s) landed since the last compaction` : 'closed, not compacted yet' };
      }),
    );
    states.push(...perHour);
  }
  return states;
}

/** Whether the day's window is complete in curated/ (see the module comment). */
export async function checkDayReadiness(
  store: ObjectStore,
  orderTopics: OrderTopics,
  day: string,
  options: { lookaheadHours: number; readyAfterMs: number; now: number },
): Promise<ReadinessReport> {
  const readyAt = dayStartMillis(day) + (24 + options.lookaheadHours) * HOUR_MS + options.readyAfterMs;
  const states = await hourStates(store, Object.values(orderTopics), day, options.lookaheadHours);
  const waiting = states.filter((s) => s.state === 'not-closed' || s.state === 'not-compacted');
  if (options.now < readyAt) waiting.unshift({ topic: '*', hour: new Date(readyAt).toISOString().slice(0, 13), state: 'not-closed', detail: `the day's window ends ${new Date(readyAt).toISOString()}` });
  return {
    ready: waiting.length === 0,
    readyAt: new Date(readyAt).toISOString(),
    hoursChecked: states.length,
    compactedHours: states.filter((s) => s.state === 'compacted').length,
    waitingFor: waiting.slice(0, 20),
  };
}
