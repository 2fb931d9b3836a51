/** Creating local users with a password (seed script, tests, admin tooling). */
import { hashPassword } from './passwords.ts';
import type { DownstreamStore, LocalUser } from '../store/types.ts';

export interface LocalUserInput {
  email: string;
  name: string;
  password: string;
  isAdmin?: boolean;
}

export async function createLocalUser(store: Pick<DownstreamStore, 'createUser'>, input: LocalUserInput): Promise<LocalUser> {
  return store.createUser({
    email: input.email,
    name: input.name,
    passwordHash: await hashPassword(input.password),
    isAdmin: input.isAdmin ?? false,
  });
}
