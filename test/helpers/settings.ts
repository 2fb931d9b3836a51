// Settings every Gatehouse under test starts with (in process or as a child process); a test's own
// settings override them.
//
// Password hashing is not what most tests test, yet at the production cost (19 MiB, 2 passes) every
// seeded account, sign-in and recovery code spends tens to hundreds of milliseconds in argon2id. Tests
// hash at the lowest cost the configuration accepts (8 MiB, 1 pass); the production defaults are
// unchanged, and the argon2 unit tests (test/unit/passwords) check hashing at the real parameters.
export const TEST_SETTINGS: Readonly<Record<string, string>> = {
  ARGON2_MEMORY_KIB: '8192',
  ARGON2_TIME_COST: '1',
};
