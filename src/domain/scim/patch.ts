// PATCH on a User (RFC 7644 §3.5.2), as a pure function: the operations applied in order to what the
// account holds, all or nothing. Paths are case-insensitive and may carry the User schema's URN;
// an operation without a path takes an object of attributes. emails, groups, id and meta are
// read-only here (scimType mutability); an attribute Gatehouse does not keep is invalidPath.
import { z } from 'zod';
import { scimError } from './errors.ts';
import { PATCH_OP_SCHEMA, USER_SCHEMA, checkActive, checkExternalId, checkName, checkUserName, joinName, roleFromRoles, type UserFields } from './user-model.ts';

export type PatchOpName = 'add' | 'replace' | 'remove';
export interface PatchOperation {
  op: PatchOpName;
  path: string | undefined;
  value: unknown;
}

export const MAX_PATCH_OPERATIONS = 100;

const patchBody = z.object({
  schemas: z.array(z.string()),
  Operations: z.array(z.object({ op: z.string(), path: z.string().optional(), value: z.unknown().optional() }).loose()),
});

/** A PatchOp request body (RFC 7644 §3.5.2); ops are matched case-insensitively ("Replace" is common). */
export function parsePatch(body: unknown): PatchOperation[] {
  const parsed = patchBody.safeParse(body);
  if (!parsed.success) throw scimError('invalidSyntax', 400, `The body must be a PatchOp: {"schemas": ["${PATCH_OP_SCHEMA}"], "Operations": [...]}.`);
  if (!parsed.data.schemas.includes(PATCH_OP_SCHEMA)) throw scimError('invalidSyntax', 400, `"schemas" must list ${PATCH_OP_SCHEMA}.`);
  if (parsed.data.Operations.length === 0) throw scimError('invalidSyntax', 400, 'A PATCH needs at least one operation.');
  if (parsed.data.Operations.length > MAX_PATCH_OPERATIONS) throw scimError('tooMany', 400, `A PATCH takes at most ${MAX_PATCH_OPERATIONS} operations.`);
  return parsed.data.Operations.map((o) => {
    const op = o.op.toLowerCase();
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw scimError('invalidSyntax', 400, `"${o.op}" is not a PATCH operation (add, replace, remove).`);
    if (op === 'remove' && !o.path) throw scimError('noTarget', 400, 'A "remove" operation needs a path.');
    if (op !== 'remove' && o.value === undefined) throw scimError('invalidValue', 400, `An "${op}" operation needs a value.`);
    return { op, path: o.path, value: o.value };
  });
}

/** A path without the User schema's URN prefix, lower-cased. */
export const normalisePath = (path: string) => {
  const lower = path.trim().toLowerCase();
  const urn = `${USER_SCHEMA.toLowerCase()}:`;
  return lower.startsWith(urn) ? lower.slice(urn.length) : lower;
};

/** The name parts a PATCH may set one at a time; the account's name is rebuilt from what was set. */
interface NameParts {
  displayName?: string | null;
  formatted?: string | null;
  givenName?: string | null;
  familyName?: string | null;
}

const READ_ONLY = new Set(['id', 'meta', 'groups', 'emails', 'schemas']);
const isReadOnly = (path: string) => READ_ONLY.has(path.split(/[.[]/)[0] ?? path);

const stringOrNull = (value: unknown, what: string): string | null => {
  if (value === null) return null;
  if (typeof value !== 'string') throw scimError('invalidValue', 400, `${what} must be a string.`);
  return value;
};

/** Applies the operations to a copy of `current`; throws (changing nothing) on the first bad one. */
export function applyUserPatch(current: UserFields, operations: readonly PatchOperation[]): UserFields {
  const next: UserFields = { ...current };
  const name: NameParts = {};

  function set(path: string, op: PatchOpName, value: unknown) {
    if (isReadOnly(path)) throw scimError('mutability', 400, `"${path}" is read-only: Gatehouse derives it.`);
    const removing = op === 'remove';
    switch (path) {
      case 'username':
        if (removing) throw scimError('mutability', 400, 'userName is required and cannot be removed.');
        next.userName = checkUserName(value);
        return;
      case 'active':
        if (removing) throw scimError('mutability', 400, 'active cannot be removed; set it to false to deactivate the user.');
        next.active = checkActive(value);
        return;
      case 'externalid':
        next.externalId = removing ? null : checkExternalId(value);
        return;
      case 'displayname':
        name.displayName = removing ? null : stringOrNull(value, 'displayName');
        return;
      case 'name.formatted':
        name.formatted = removing ? null : stringOrNull(value, 'name.formatted');
        return;
      case 'name.givenname':
        name.givenName = removing ? null : stringOrNull(value, 'name.givenName');
        return;
      case 'name.familyname':
        name.familyName = removing ? null : stringOrNull(value, 'name.familyName');
        return;
      case 'name': {
        if (removing || value === null) {
          Object.assign(name, { formatted: null, givenName: null, familyName: null });
          return;
        }
        if (typeof value !== 'object' || Array.isArray(value)) throw scimError('invalidValue', 400, 'name must be an object.');
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) set(`name.${k.toLowerCase()}`, op, v);
        return;
      }
      case 'roles':
        next.role = removing ? 'user' : roleFromRoles(Array.isArray(value) ? value : [value]);
        return;
      default:
        if (removing && path.startsWith('roles[')) {
          // remove roles[value eq "admin"]: the account goes back to the least role when it held that one
          const named = /^roles\[value eq "([^"]*)"\]$/.exec(path);
          if (!named) throw scimError('invalidPath', 400, 'Remove a role as roles[value eq "<role>"].');
          if (named[1] === next.role) next.role = 'user';
          return;
        }
        if (path.startsWith('name.')) return; // honorificPrefix, middleName…: not kept, as on a replace
        throw scimError('invalidPath', 400, `Gatehouse keeps no attribute "${path}" on a User.`);
    }
  }

  for (const operation of operations) {
    if (operation.path === undefined) {
      const value = operation.value;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw scimError('invalidValue', 400, 'An operation without a path takes an object of attributes.');
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        const path = normalisePath(key);
        if (path === 'schemas') continue;
        set(path, operation.op, v);
      }
    } else {
      set(normalisePath(operation.path), operation.op, operation.value);
    }
  }

  if (name.displayName !== undefined) next.name = name.displayName;
  else if (name.formatted !== undefined) next.name = name.formatted;
  else if (name.givenName !== undefined || name.familyName !== undefined) {
    next.name = joinName(name.givenName ?? null, name.familyName ?? null);
  }
  next.name = checkName(next.name);
  return next;
}
