/** Jest runs the TypeScript sources as native ESM (test/ts-transform.js); imports keep their `.ts` extension. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': '<rootDir>/test/ts-transform.js',
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  setupFiles: ['<rootDir>/test/helpers/setup-env.ts'],
  testTimeout: 60000,
  maxWorkers: 1,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
