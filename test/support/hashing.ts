// Password hashes at argon2's lightest cost for test servers: the suite registers thousands of
// users, and at the production cost (64 MiB, 3 passes, 4 lanes) hashing alone took minutes of
// its CPU. What the tests check of passwords (right, wrong, unknown, lockout) does not depend
// on the cost.
export const LIGHT_PASSWORD_HASHING = {
  PASSWORD_HASH_MEMORY_KIB: '1024',
  PASSWORD_HASH_TIME_COST: '1',
  PASSWORD_HASH_PARALLELISM: '1',
} as const;
