// Two projects: `unit` (fast, may fake) and `e2e` (against the real local stack).
// Type checking is `npm run typecheck`; ts-jest only transpiles, which keeps the suite fast.
const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^@app/(.*)$': '<rootDir>/libs/$1/src' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.local-stack/'],
};

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts,test,infra}/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/{apps,libs,scripts,test}/**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/e2e.setup.ts'],
      globalSetup: '<rootDir>/test/e2e.global-setup.js',
    },
  ],
};
