/**
 * What the lake holds per topic: open hours (segments landed, not closed), closed hours waiting for
 * compaction, compacted hours (and those with late segments waiting for a re-compaction), rows,
 * files, and how fresh the newest closed hour is.
 */
import type { ObjectStore } from '@app/object-store';
import type { CuratedManifest } from './curated-manifest';
import { hourOfKey } from './curated-manifest';
import { hourStartMillis, type RawHourManifest } from './manifest';

export interface HourStatus {
  hour: string;
  state: 'open' | 'closed' | 'compacted' | 'stale';
  rawSegments: number;
  rawRows?: number;
  curatedRows?: number;
  curatedFiles?: number;
  curatedBytes?: number;
}

export interface TopicStatus {
  topic: string;
  open: number;
  closed: number;
  compacted: number;
  /** Compacted hours with raw segments the curated manifest does not cover yet (late events). */
  stale: number;
  rows: number;
  files: number;
  bytes: number;
  newestClosedHour?: string;
  /** Milliseconds from the end of the newest closed hour to now. */
  newestClosedAgeMs?: number;
  hours: HourStatus[];
}

/** Reads the lake's listing and manifests into per-topic status. */
export async function lakeStatus(store: ObjectStore, now: number = Date.now()): Promise<TopicStatus[]> {
  const hours = new Map<string, Map<string, { segments: Set<string>; rawManifest?: string; curatedManifest?: string }>>();
  const entry = (topic: string, hour: string) => {
    const byHour = hours.get(topic) ?? new Map();
    hours.set(topic, byHour);
    const e = byHour.get(hour) ?? { segments: new Set<string>() };
    byHour.set(hour, e);
    return e;
  };
  for (const area of ['raw/', 'curated/']) {
    for (const o of await store.list(area)) {
      const at = hourOfKey(o.key);
      if (!at) continue;
      const e = entry(at.topic, at.hour);
      if (at.file === '_manifest.json') {
        if (at.area === 'raw') e.rawManifest = o.key;
        else e.curatedManifest = o.key;
      } else if (at.area === 'raw' && at.file.endsWith('.avro')) e.segments.add(o.key);
    }
  }
  const result: TopicStatus[] = [];
  for (const [topic, byHour] of [...hours.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const status: TopicStatus = { topic, open: 0, closed: 0, compacted: 0, stale: 0, rows: 0, files: 0, bytes: 0, hours: [] };
    for (const [hour, e] of [...byHour.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const h: HourStatus = { hour, state: 'open', rawSegments: e.segments.size };
      if (e.rawManifest) {
        const raw = JSON.parse((await store.get(e.rawManifest)).toString('utf8')) as RawHourManifest;
        h.rawRows = raw.rows;
        h.state = 'closed';
        if (!status.newestClosedHour || hour > status.newestClosedHour) status.newestClosedHour = hour;
      }
      if (e.curatedManifest) {
        const curated = JSON.parse((await store.get(e.curatedManifest)).toString('utf8')) as CuratedManifest;
        const covered = new Set(curated.sources.map((s) => s.key));
        h.state = [...e.segments].every((k) => covered.has(k)) ? 'compacted' : 'stale';
        h.curatedRows = curated.rows;
        h.curatedFiles = curated.files.length;
        h.curatedBytes = curated.files.reduce((n, f) => n + f.bytes, 0);
        status.rows += curated.rows;
        status.files += curated.files.length;
        status.bytes += h.curatedBytes;
      }
      status[h.state]++;
      status.hours.push(h);
    }
    if (status.newestClosedHour) status.newestClosedAgeMs = now - (hourStartMillis(status.newestClosedHour) + 3_600_000);
    result.push(status);
  }
  return result;
}
