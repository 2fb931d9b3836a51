/**
 * Jest runs the TypeScript sources as native ESM (test/ts-transform.js); imports keep their `.ts` extension.
 *
 * Four projects, one per kind of test (`--selectProjects unit` runs one). Test files run in parallel
 * workers: each has its own database (a PostgreSQL schema or a copy of a migrated PGlite directory), its own Redis key
 * prefix, free ports and temporary directories (test/helpers), so no file sees another's data.
 * TEST_WORKERS sets the number of workers (default: one per core, plus one).
 *
 * Some files test the same thing whatever the run's storage mode: the unit tests (pure rules, no
 * storage), tests of PostgreSQL and Redis themselves (they always use the local servers), tests that
 * always use an embedded DATA_DIR of their own, and tests that open no storage at all. With
 * TEST_STORAGE_DEPENDENT_ONLY=1 a run leaves them out: `.ci/run` runs them once, in the embedded run,
 * and the PostgreSQL + Redis run has only the files whose storage follows the mode.
 */
import os from 'node:os';

export const storageIndependent = [
  'test/unit/',
  'test/integration/scale-out/two-instances.test.ts', // two processes on the local PostgreSQL + Redis
  'test/integration/scale-out/workers.test.ts', // WORKERS on the local PostgreSQL + Redis
  'test/integration/scale-out/store-restarts.test.ts', // a PostgreSQL and a Redis of its own
  'test/integration/oidc-adapter/redis-cluster.test.ts', // a Redis Cluster of its own
  'test/integration/keys/first-start-race.test.ts', // two instances on the local PostgreSQL
  'test/integration/package/', // the bin and the package's exports as a user runs them
  'test/integration/cli/usage-errors.test.ts', // refused before any storage is opened
  'test/integration/cli/next-to-embedded-server.test.ts', // an embedded DATA_DIR of its own
  'test/integration/store/embedded-buffers.test.ts', // an embedded DATA_DIR of its own
  'test/browser/demo-passkey.test.ts', // `npm run demo`, which always runs the embedded default in a directory of its own
];

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': '<rootDir>/test/ts-transform.js',
  },
  setupFiles: ['<rootDir>/test/helpers/setup-env.ts'],
  ...(process.env.TEST_STORAGE_DEPENDENT_ONLY === '1' ? { testPathIgnorePatterns: ['/node_modules/', ...storageIndependent.map((p) => `<rootDir>/${p}`)] } : {}),
};

const project = (name) => ({ ...shared, displayName: name, testMatch: [`<rootDir>/test/${name}/**/*.test.ts`] });

export default {
  projects: [project('unit'), project('integration'), project('e2e'), project('browser')],
  // generous: CI machines are shared, and a hook that starts a Gatehouse waits for its database
  testTimeout: 120000,
  // one worker more than CPUs: files spend much of their time waiting (child processes starting, a
  // browser, the next TOTP time step), and a third worker on 2 CPUs took the embedded run from 1,327 s
  // to 1,056 s with every file passing
  maxWorkers: Number(process.env.TEST_WORKERS) || os.availableParallelism() + 1,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
