/**
 * Jest runs the TypeScript sources as native ESM (test/ts-transform.js); imports keep their `.ts` extension.
 *
 * Four projects, one per kind of test (`--selectProjects unit` runs one). Test files run in parallel
 * workers: each has its own database (a PostgreSQL schema or an in-memory PGlite), its own Redis key
 * prefix, free ports and temporary directories (test/helpers), so no file sees another's data.
 * TEST_WORKERS sets the number of workers (default: one per core, at least 2).
 */
import os from 'node:os';

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': '<rootDir>/test/ts-transform.js',
  },
  setupFiles: ['<rootDir>/test/helpers/setup-env.ts'],
};

const project = (name) => ({ ...shared, displayName: name, testMatch: [`<rootDir>/test/${name}/**/*.test.ts`] });

export default {
  projects: [project('unit'), project('integration'), project('e2e'), project('browser')],
  // generous: CI machines are shared, and a hook that starts a Gatehouse waits for its database
  testTimeout: 120000,
  maxWorkers: Number(process.env.TEST_WORKERS) || Math.max(2, os.availableParallelism()),
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
