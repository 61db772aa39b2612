/* global process */
// StrykerJS over one core lib at a time (`npm run test:mutation` runs them all and prints a score per
// lib). Only the lib's unit tests run: the mutation score says what the fast suite catches.
// MUTATION_LIB picks the lib (codec, contracts, config, kafka).
const lib = process.env.MUTATION_LIB ?? 'config';

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
  mutate: [`libs/${lib}/src/**/*.ts`, ...notMutated],
  jest: {
    projectType: 'custom',
    enableFindRelatedTests: false,
    config: {
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
      moduleFileExtensions: ['ts', 'js', 'json'],
      moduleNameMapper: { '^@app/(.*)$': '<rootDir>/libs/$1/src' },
      // Plus unit tests kept outside a lib its owner works on (test/mutation/<lib>/).
      testMatch: [`<rootDir>/libs/${lib}/src/**/*.spec.ts`, `<rootDir>/test/mutation/${lib}/**/*.spec.ts`],
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
