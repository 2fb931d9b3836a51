// One contract for every oidc-provider adapter (test/helpers/adapter-contract.ts): whatever the store,
// the provider sees the same behaviour — above all, one authorization code is exchanged at most once,
// because consuming is one conditional write.
import { backendName } from '../../helpers/db.ts';
import { redisUnderTest } from '../../helpers/redis.ts';
import { adapterContract } from '../../helpers/adapter-contract.ts';
import { lmdbAdapterFixture, redisAdapterFixture, sqlAdapterFixture } from '../../helpers/adapters.ts';

adapterContract(`SQL adapter on ${backendName()}`, sqlAdapterFixture);
adapterContract('LMDB adapter (embedded default)', lmdbAdapterFixture);

// The Redis adapter is tested against the local Redis in the embedded mode too.
adapterContract('Redis adapter', () => redisAdapterFixture(redisUnderTest()));
