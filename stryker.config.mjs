/* global process */
// StrykerJS over one lib at a time (`npm run test:mutation` runs them all and prints a score per lib).
// Only the lib's unit tests run: the mutation score says what the fast suite catches.
// MUTATION_LIB picks the lib: the core libs (codec, contracts, config, kafka) or a later one (runtime, lake).
const lib = process.env.MUTATION_LIB ?? 'config';

// The core libs are mutated whole. The runtime and the lake only in their unit-testable logic: their
// Kafka, S3 and DuckDB plumbing (kafka-runtime.ts, the sink engine, the Parquet writer, the query
// layer…) is proven by e2e specs against the stack, which a mutation run cannot afford to repeat per
// mutant. `runtime-defaults.ts` is left out too: it is tuning data (timeouts, sizes), not behaviour.
// compaction.ts is not in yet: its unit tests write Parquet through DuckDB (~1 s per test), so each of
// its few hundred mutants costs ~15 s; `MUTATION_FILES=compaction` runs it alone.
// Keep test/mutation/tsconfig.<lib>.json's `files` in step with these lists.
const LOGIC_FILES = {
  runtime: ['errors', 'handler', 'dead-letter', 'co-partitioned-assigner', 'task-store', 'trace-context'],
  lake: ['manifest', 'raw-segment', 'hour-close'],
};
// MUTATION_FILES=hour-close,manifest narrows a run to those files of the lib (and to the specs named
// after them, e.g. hour-close.spec.ts and hour-close.mutation.spec.ts): a quick check of new tests.
const only = process.env.MUTATION_FILES?.split(',').filter(Boolean);
const files = only ?? LOGIC_FILES[lib];
const mutated = files?.map((f) => `libs/${lib}/src/${f}.ts`) ?? [`libs/${lib}/src/**/*.ts`];
const specs = only?.map((f) => `<rootDir>/libs/${lib}/src/${f}{,.*,-*}.spec.ts`) ?? [`<rootDir>/libs/${lib}/src/**/*.spec.ts`];

// What is not worth mutating: re-export barrels and code generated from schemas/*.avsc (its generator
// is tested in scripts/schemas, and the schemas themselves by libs/contracts' schema tests).
// Also the example events (test data: mutating a sample string changes no behaviour).
const notMutated = [
  `!libs/${lib}/src/**/*.spec.ts`,
  `!libs/${lib}/src/index.ts`,
  `!libs/${lib}/src/generated/**`,
  `!libs/${lib}/src/examples.ts`,
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  checkers: ['typescript'],
  // Only the lib's own sources (and what they import): checking every lib per mutant is needless work.
  tsconfigFile: `test/mutation/tsconfig.${lib}.json`,
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: [...mutated, ...notMutated],
  jest: {
    projectType: 'custom',
    enableFindRelatedTests: false,
    config: {
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
      moduleFileExtensions: ['ts', 'js', 'json'],
      moduleNameMapper: { '^@app/(.*)$': '<rootDir>/libs/$1/src' },
      // The lib's unit specs only (never its e2e-spec files, which need the stack), plus unit tests kept
      // outside a lib its owner works on (test/mutation/<lib>/).
      testMatch: [...specs, `<rootDir>/test/mutation/${lib}/**/*.spec.ts`],
    },
  },
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 20_000,
  // The sandbox needs the libs and the TypeScript/Jest configs, not the stack's downloads or builds.
  ignorePatterns: ['/*', '!/libs', '!/schemas', '!/package.json', '!/tsconfig.json', '!/tsconfig.base.json', '!/test', '/test/*', '!/test/mutation'],
  // Under .local-stack/ (git-, jest- and eslint-ignored): a sandbox copy of the specs anywhere else would
  // be picked up by anyone running jest meanwhile.
  tempDirName: '.local-stack/stryker-tmp',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `coverage/mutation/${lib}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  thresholds: { high: 90, low: 80, break: null },
};
