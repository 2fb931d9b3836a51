import { randomBytes } from 'node:crypto';

export const testRedisUrl = () => process.env.REDIS_URL || undefined;
/** A key prefix no other test uses, so suites can share one Redis. */
export const uniquePrefix = () => `gh-test:${randomBytes(4).toString('hex')}:`;
