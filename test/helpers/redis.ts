import { randomBytes } from 'node:crypto';

/** REDIS_URL of the run: set in the PostgreSQL + Redis mode, unset in the embedded mode. */
export const testRedisUrl = () => process.env.REDIS_URL || undefined;
/**
 * For tests about Redis itself (the Redis adapter, key-value store, scale-out): the run's Redis, or the
 * local server in the embedded mode, so they run (never skip) in both modes.
 */
export const redisUnderTest = () => testRedisUrl() ?? 'redis://127.0.0.1:6379';
/** A key prefix no other test uses, so suites can share one Redis. */
export const uniquePrefix = () => `gh-test:${randomBytes(4).toString('hex')}:`;
