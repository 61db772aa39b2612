/**
 * Apache Avro's Java SchemaCompatibility as a reference for our gate: fetches avro from Maven Central
 * once (cached in .local-stack/avro-java/, keyed by the pom's hash), compiles one small program, and
 * judges a whole table of (reader, writer) pairs in one JVM.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './schema-files';

const SOURCE_DIR = join(__dirname, 'avro-java');
const CACHE_DIR = join(REPO_ROOT, '.local-stack/avro-java');

export interface JavaVerdict {
  compatible: boolean;
  detail: string;
}

function hashOf(...files: string[]): string {
  const hash = createHash('sha1');
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex').slice(0, 12);
}

/** Jars and compiled program, fetched and built only when missing. Returns the java classpath. */
export function prepareAvroJava(): string {
  const pom = join(SOURCE_DIR, 'pom.xml');
  const source = join(SOURCE_DIR, 'AvroCompat.java');
  const libs = join(CACHE_DIR, `lib-${hashOf(pom)}`);
  if (!existsSync(join(libs, '.complete'))) {
    rmSync(libs, { recursive: true, force: true });
    execFileSync('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`], { stdio: 'pipe' });
    writeFileSync(join(libs, '.complete'), '');
  }
  const classes = join(CACHE_DIR, `classes-${hashOf(pom, source)}`);
  if (!existsSync(join(classes, 'AvroCompat.class'))) {
    mkdirSync(classes, { recursive: true });
    execFileSync('javac', ['-cp', `${libs}/*`, '-d', classes, source], { stdio: 'pipe' });
  }
  return `${classes}:${libs}/*`;
}

/** Avro Java's verdict for each pair, in order. */
export function avroJavaVerdicts(pairs: { reader: string; writer: string }[]): JavaVerdict[] {
  const classpath = prepareAvroJava();
  const out = execFileSync('java', ['-Xshare:auto', '-XX:TieredStopAtLevel=1', '-cp', classpath, 'AvroCompat'], {
    input: JSON.stringify(pairs),
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(out) as JavaVerdict[];
}
