// How a Gatehouse account reads and writes as an RFC 7643 User: userName is the email address, the
// account's one name is displayName and name.formatted (a name built from givenName and familyName when
// only those are sent), `active` is the account's status, the role is the primary value of `roles`
// (and the account's one group, read-only on the User), externalId is the provisioning client's id.
// emails mirrors userName and is read-only here: Gatehouse keeps one address per account.
import { z } from 'zod';
import { ROLES, type Role } from '../kinds.ts';
import { scimError } from './errors.ts';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** What an account holds of a User. */
export interface UserFields {
  userName: string;
  /** the account's name: displayName and name.formatted. */
  name: string | null;
  externalId: string | null;
  active: boolean;
  role: Role;
}

export const MAX_NAME_LENGTH = 200;
export const MAX_EXTERNAL_ID_LENGTH = 255;

const invalidValue = (message: string) => scimError('invalidValue', 400, message);

/** "Lee" + "Ann" → "Ann Lee": what an account's single name is made of when only the parts are sent. */
export const joinName = (given: string | null | undefined, family: string | null | undefined): string | null =>
  [given, family].filter((p): p is string => typeof p === 'string' && p.trim() !== '').map((p) => p.trim()).join(' ') || null;

export function checkName(name: string | null): string | null {
  const trimmed = name?.trim() ?? '';
  if (trimmed.length > MAX_NAME_LENGTH) throw invalidValue(`The name is at most ${MAX_NAME_LENGTH} characters.`);
  return trimmed || null;
}

export function checkExternalId(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw invalidValue('externalId must be a string.');
  if (value.length > MAX_EXTERNAL_ID_LENGTH) throw invalidValue(`externalId is at most ${MAX_EXTERNAL_ID_LENGTH} characters.`);
  return value === '' ? null : value;
}

export function checkUserName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalidValue('userName is required: the user’s email address.');
  return value.trim();
}

/** `true`/`false`, and the strings "True"/"False" some provisioning clients send. */
export function checkActive(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalidValue('active must be true or false.');
}

export function checkRole(value: unknown): Role {
  if (typeof value === 'string' && (ROLES as readonly string[]).includes(value)) return value as Role;
  throw invalidValue(`A role (roles[].value, or a group) must be one of ${ROLES.join(', ')}.`);
}

const roleEntry = z.object({ value: z.unknown(), primary: z.union([z.boolean(), z.string()]).optional() }).loose();

/** The role a `roles` value names: the primary entry, else the only one; an empty list means `user`. */
export function roleFromRoles(value: unknown): Role {
  const list = z.array(roleEntry).safeParse(value);
  if (!list.success) throw invalidValue('roles must be a list of {"value": "<role>"} objects.');
  if (list.data.length === 0) return 'user';
  const primary = list.data.filter((r) => r.primary === true || r.primary === 'true' || r.primary === 'True');
  const chosen = primary.length === 1 ? primary[0] : list.data.length === 1 ? list.data[0] : undefined;
  if (!chosen) throw invalidValue('roles: Gatehouse keeps one role per account; send one entry, or mark one "primary": true.');
  return checkRole(chosen.value);
}

const nameObject = z
  .object({ formatted: z.string().nullish(), givenName: z.string().nullish(), familyName: z.string().nullish() })
  .loose();

const userInput = z
  .object({
    schemas: z.array(z.string()),
    userName: z.unknown(),
    name: nameObject.nullish(),
    displayName: z.string().nullish(),
    externalId: z.unknown().optional(),
    active: z.unknown().optional(),
    roles: z.unknown().optional(),
    password: z.unknown().optional(),
  })
  .loose();

/**
 * A User from a POST or a PUT (RFC 7644 §3.3, §3.5.1): the fields an account keeps. Attributes
 * Gatehouse does not keep (emails, phoneNumbers, extensions…) are ignored, as read-only or unknown
 * attributes are on a replace; a password is refused (the user chooses it, or signs in upstream).
 */
export function userFromResource(body: unknown, current?: UserFields): UserFields {
  const parsed = userInput.safeParse(body);
  if (!parsed.success) throw scimError('invalidSyntax', 400, 'The body must be a SCIM User: an object with "schemas" and "userName".');
  const input = parsed.data;
  if (!input.schemas.includes(USER_SCHEMA)) throw scimError('invalidSyntax', 400, `"schemas" must list ${USER_SCHEMA}.`);
  if (input.password !== undefined) throw invalidValue('Gatehouse takes no password over SCIM: the user sets one through the password reset, or signs in with an upstream identity provider.');
  const name = input.displayName ?? input.name?.formatted ?? joinName(input.name?.givenName, input.name?.familyName);
  return {
    userName: checkUserName(input.userName),
    name: checkName(name ?? null),
    externalId: checkExternalId(input.externalId),
    active: input.active === undefined ? true : checkActive(input.active),
    // a replace that leaves roles out keeps the role (roles is how a role is set; groups are read-only here)
    role: input.roles === undefined ? (current?.role ?? 'user') : roleFromRoles(input.roles),
  };
}
