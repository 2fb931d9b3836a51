// Bulk import of users from another platform (Kaseya's migration case): email, name, role, optionally
// the password hash they already have (argon2id kept as is, bcrypt replaced by argon2id at the next
// sign-in) and the TOTP secret of the authenticator app they already use (MFA Status Active at once).
//
// Each row is checked, authorized and written on its own, in one atomic write: a rejected row writes
// nothing and does not stop the others. Running the same file again finds nothing to change: an
// unchanged secret is not rewritten (its used time steps stay spent, so no code can be replayed) and
// a password hash upgraded at sign-in is recognised by the digest of the hash that was imported.
// Imported users get no mail; the administrator gets one summary when something changed.
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Repos } from '../../store/repos.ts';
import type { Account } from '../../store/repositories/accounts.ts';
import { badRequest } from '../errors.ts';
import type { SecurityEvent, SecurityEvents } from '../events.ts';
import type { Postbox, Recipient } from '../notices.ts';
import type { SecretBox } from '../secrets.ts';
import { can, type Role } from '../permissions.ts';
import { ROLES } from '../kinds.ts';
import { emailAddress } from '../directory.ts';
import { importableHashKind } from '../passwords.ts';
import { parseBase32Secret } from '../mfa/totp.ts';
import { IMPORTED_LABEL, totpSecretContext } from '../mfa/service.ts';
import { actorFields, authorize, tenantByRef, tenantTarget, type AdminContext } from '../admin/context.ts';
import { parseCsv } from './csv.ts';

export const IMPORT_COLUMNS = ['email', 'name', 'role', 'password_hash', 'totp_secret'] as const;
export const MAX_IMPORT_ROWS = 10_000;
/** bcrypt's cost doubles the work per step; a higher cost would let one sign-in occupy a core for seconds. */
const MAX_BCRYPT_COST = 14;

export type ImportOutcome = 'created' | 'updated' | 'unchanged' | 'rejected';
export type ImportChange = 'name' | 'role' | 'password' | 'totp';

export interface ImportRowReport {
  /** 1-based: the line of a CSV file (header = line 1), the position in a JSON list. */
  row: number;
  email: string | null;
  outcome: ImportOutcome;
  reason?: string;
  changes?: ImportChange[];
  accountId?: string;
}

export interface ImportReport {
  tenant: { id: string; slug: string; name: string };
  dryRun: boolean;
  summary: Record<ImportOutcome, number>;
  rows: ImportRowReport[];
  /** whether the summary mail was queued. */
  notified: boolean;
}

/** A row as read from the file, before any check. */
export interface RawImportRow {
  row: number;
  fields: unknown;
}

const optionalText = z
  .union([z.string(), z.null()])
  .optional()
  .transform((v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined));

const rowSchema = z
  .object({
    email: z.string({ error: 'email is required' }),
    name: optionalText.refine((v) => v === undefined || v.length <= 200, 'name is longer than 200 characters'),
    role: optionalText,
    password_hash: optionalText,
    totp_secret: optionalText,
  })
  .strict();

interface CheckedRow {
  email: string;
  name: string | undefined;
  role: Role | undefined;
  passwordHash: string | undefined;
  totpSecret: string | undefined;
}

/** Reads a CSV file with a header line naming the columns (any order; email required). */
export function rowsFromCsv(text: string): RawImportRow[] {
  const [header, ...records] = parseCsv(text);
  if (!header) throw badRequest('The file is empty: the first line must name the columns (email, name, role, password_hash, totp_secret).', 'invalid_import');
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  const unknown = columns.filter((c) => !(IMPORT_COLUMNS as readonly string[]).includes(c));
  if (unknown.length) throw badRequest(`Unknown column(s) ${unknown.map((c) => `"${c}"`).join(', ')}: the columns are ${IMPORT_COLUMNS.join(', ')}.`, 'invalid_import');
  if (!columns.includes('email')) throw badRequest('The file has no "email" column.', 'invalid_import');
  if (new Set(columns).size !== columns.length) throw badRequest('A column is named twice in the header line.', 'invalid_import');
  checkSize(records.length);
  return records.map((r) => {
    if (r.fields.length !== columns.length) return { row: r.line, fields: { __cells: r.fields.length, __columns: columns.length } };
    return { row: r.line, fields: Object.fromEntries(columns.map((c, i) => [c, r.fields[i]])) };
  });
}

/** Reads a JSON list of users (or `{"users": [...]}`), each an object with the import columns. */
export function rowsFromJson(value: unknown): RawImportRow[] {
  const list = Array.isArray(value) ? value : typeof value === 'object' && value !== null && Array.isArray((value as { users?: unknown }).users) ? (value as { users: unknown[] }).users : undefined;
  if (!list) throw badRequest('The JSON must be a list of users, or an object with a "users" list.', 'invalid_import');
  checkSize(list.length);
  return list.map((fields, i) => ({ row: i + 1, fields }));
}

/** Reads a file by its name's ending: .csv or .json. */
export function rowsFromFile(fileName: string, text: string): RawImportRow[] {
  if (/\.csv$/i.test(fileName)) return rowsFromCsv(text);
  if (/\.json$/i.test(fileName)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw badRequest(`The file is not valid JSON: ${(e as Error).message}`, 'invalid_import');
    }
    return rowsFromJson(value);
  }
  throw badRequest('The file must be a .csv or a .json file.', 'invalid_import');
}

function checkSize(rows: number) {
  if (rows === 0) throw badRequest('The file has no users.', 'invalid_import');
  if (rows > MAX_IMPORT_ROWS) throw badRequest(`The file has ${rows} users; import at most ${MAX_IMPORT_ROWS} at a time.`, 'invalid_import');
}

/** The row's values, or why it is refused (a sentence for the report). */
function checkRow(raw: RawImportRow): CheckedRow | string {
  const fields = raw.fields;
  if (typeof fields === 'object' && fields !== null && '__cells' in fields) {
    const f = fields as { __cells: number; __columns: number };
    return `the line has ${f.__cells} cells where the header names ${f.__columns} columns`;
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return 'the user must be an object with the import columns';
  const parsed = rowSchema.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.join(', ')}: the fields are ${IMPORT_COLUMNS.join(', ')}`;
    const field = issue?.path.join('.');
    return field && issue?.message && !issue.message.startsWith(field) ? `${field}: ${issue.message}` : (issue?.message ?? 'the row is not valid');
  }
  const email = emailAddress.safeParse(parsed.data.email);
  if (!email.success) return 'email is not an email address';
  const role = parsed.data.role;
  if (role !== undefined && !(ROLES as readonly string[]).includes(role)) return `role must be one of ${ROLES.join(', ')}`;
  const hash = parsed.data.password_hash;
  if (hash !== undefined) {
    const kind = importableHashKind(hash);
    if (!kind) return 'password_hash must be an argon2id hash ($argon2id$v=19$…) or a bcrypt hash ($2b$…)';
    if (kind === 'bcrypt' && Number(hash.slice(4, 6)) > MAX_BCRYPT_COST) return `password_hash: a bcrypt cost above ${MAX_BCRYPT_COST} is not accepted`;
  }
  let totpSecret: string | undefined;
  if (parsed.data.totp_secret !== undefined) {
    try {
      totpSecret = parseBase32Secret(parsed.data.totp_secret);
    } catch (e) {
      return `totp_secret: ${(e as Error).message.replace('setup key', 'secret')}`;
    }
  }
  return { email: email.data, name: parsed.data.name, role: role as Role | undefined, passwordHash: hash, totpSecret };
}

const digestOf = (hash: string) => createHash('sha256').update(hash).digest('hex');

export interface UserImportDeps {
  repos: Pick<Repos, 'tenants' | 'accounts' | 'authenticators' | 'imports'>;
  events: SecurityEvents;
  box: SecretBox;
  postbox: Postbox;
}

export interface ImportRequest {
  /** tenant id or slug. */
  tenant: string;
  rows: RawImportRow[];
  dryRun?: boolean | undefined;
  /** who gets the summary mail; default the acting account (a command line or service has no mailbox). */
  notify?: Recipient | undefined;
}

export function createUserImport(deps: UserImportDeps) {
  const { repos, events, box } = deps;

  /** The TOTP secret the account already has, when it has exactly one authenticator app. */
  async function currentSecret(accountId: string): Promise<string | undefined> {
    const totps = (await repos.authenticators.listForAccount(accountId)).filter((a) => a.kind === 'totp');
    const [only, ...others] = totps;
    if (!only?.secretEnc || others.length > 0) return undefined;
    return box.openText(only.secretEnc, totpSecretContext(accountId));
  }

  async function changesFor(existing: Account, row: CheckedRow): Promise<ImportChange[]> {
    const changes: ImportChange[] = [];
    if (row.name !== undefined && row.name !== existing.name) changes.push('name');
    if (row.role !== undefined && row.role !== existing.role) changes.push('role');
    if (row.passwordHash !== undefined && row.passwordHash !== existing.passwordHash && digestOf(row.passwordHash) !== existing.importedPasswordDigest) changes.push('password');
    if (row.totpSecret !== undefined && (await currentSecret(existing.id)) !== row.totpSecret) changes.push('totp');
    return changes;
  }

  return {
    async run(ctx: AdminContext, request: ImportRequest): Promise<ImportReport> {
      const tenant = await tenantByRef(repos, request.tenant);
      const target = tenantTarget(tenant);
      await authorize(deps, ctx, 'invite_user', { ...target, grantRole: 'user' }, { visibleWith: 'view_users', notFoundMessage: `No tenant with id or slug "${request.tenant}".` });
      const dryRun = request.dryRun ?? false;
      const seen = new Map<string, number>();
      const rows: ImportRowReport[] = [];
      const audit: Omit<SecurityEvent, 'action'> = { ...actorFields(ctx.actor), tenantId: tenant.id, ...ctx.request };

      for (const raw of request.rows) {
        const checked = checkRow(raw);
        const emailOf = typeof raw.fields === 'object' && raw.fields !== null && typeof (raw.fields as { email?: unknown }).email === 'string' ? (raw.fields as { email: string }).email.trim() : null;
        if (typeof checked === 'string') {
          rows.push({ row: raw.row, email: emailOf, outcome: 'rejected', reason: checked });
          continue;
        }
        const earlier = seen.get(checked.email);
        if (earlier !== undefined) {
          rows.push({ row: raw.row, email: checked.email, outcome: 'rejected', reason: `the same email is on row ${earlier}` });
          continue;
        }
        seen.set(checked.email, raw.row);
        rows.push(await importRow(ctx, tenant, checked, raw.row, dryRun, audit));
      }

      const summary = { created: 0, updated: 0, unchanged: 0, rejected: 0 };
      for (const r of rows) summary[r.outcome]++;
      const to = request.notify ?? (ctx.actor.kind === 'account' ? { email: ctx.actor.display, name: null } : undefined);
      const notified = !dryRun && to !== undefined && summary.created + summary.updated > 0;
      if (notified) await deps.postbox.send('import.summary', to, { tenantName: tenant.name, ...summary });
      return { tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name }, dryRun, summary, rows, notified };
    },
  };

  async function importRow(
    ctx: AdminContext,
    tenant: Awaited<ReturnType<typeof tenantByRef>>,
    row: CheckedRow,
    line: number,
    dryRun: boolean,
    audit: Omit<SecurityEvent, 'action'>,
  ): Promise<ImportRowReport> {
    const base = { row: line, email: row.email };
    const existing = await repos.accounts.findInTenant(tenant.id, row.email);
    if (!existing) {
      const role = row.role ?? 'user';
      const decision = can(ctx.actor, 'invite_user', tenantTarget(tenant, { grantRole: role }));
      if (!decision.allowed) return { ...base, outcome: 'rejected', reason: `you may not do this: ${decision.reason}` };
      const changes: ImportChange[] = [...(row.passwordHash ? ['password' as const] : []), ...(row.totpSecret ? ['totp' as const] : [])];
      if (dryRun) return { ...base, outcome: 'created', changes };
      const id = randomUUID();
      const created = await repos.imports.create({
        id,
        tenantId: tenant.id,
        email: row.email,
        name: row.name ?? null,
        role,
        passwordHash: row.passwordHash ?? null,
        importedPasswordDigest: row.passwordHash ? digestOf(row.passwordHash) : null,
        totpSecretEnc: row.totpSecret ? box.seal(row.totpSecret, totpSecretContext(id)) : null,
        totpLabel: IMPORTED_LABEL,
      });
      if (!created) return { ...base, outcome: 'rejected', reason: 'an account with this email was created while the import ran; import the file again' };
      await events.emit({ action: 'account.imported', ...audit, target: id, detail: { outcome: 'created', role, changes } });
      if (row.totpSecret) await events.emit({ action: 'mfa.imported', ...audit, target: id, detail: { via: 'bulk_import' } });
      return { ...base, outcome: 'created', changes, accountId: id };
    }

    const decision = can(ctx.actor, 'change_role', tenantTarget(tenant, { accountId: existing.id, role: existing.role, grantRole: row.role ?? existing.role }));
    if (!decision.allowed) return { ...base, outcome: 'rejected', reason: `you may not do this: ${decision.reason}`, accountId: existing.id };
    const changes = await changesFor(existing, row);
    if (changes.length === 0) return { ...base, outcome: 'unchanged', accountId: existing.id };
    if (dryRun) return { ...base, outcome: 'updated', changes, accountId: existing.id };
    const updated = await repos.imports.update({
      id: existing.id,
      ...(changes.includes('name') ? { name: row.name } : {}),
      ...(changes.includes('role') ? { role: row.role } : {}),
      ...(changes.includes('password') && row.passwordHash ? { password: { hash: row.passwordHash, digest: digestOf(row.passwordHash) } } : {}),
      ...(changes.includes('totp') && row.totpSecret ? { totp: { secretEnc: box.seal(row.totpSecret, totpSecretContext(existing.id)), label: IMPORTED_LABEL } } : {}),
    });
    if (!updated) return { ...base, outcome: 'rejected', reason: 'the account was deleted while the import ran' };
    await events.emit({ action: 'account.imported', ...audit, target: existing.id, detail: { outcome: 'updated', changes } });
    if (changes.includes('totp')) await events.emit({ action: 'mfa.imported', ...audit, target: existing.id, detail: { via: 'bulk_import' } });
    return { ...base, outcome: 'updated', changes, accountId: existing.id };
  }
}

export type UserImport = ReturnType<typeof createUserImport>;

/** The report in the snake_case field names of the API and the CLI's --json output. */
export const importReportJson = (r: ImportReport) => ({
  tenant: r.tenant,
  dry_run: r.dryRun,
  summary: r.summary,
  summary_mailed: r.notified,
  rows: r.rows.map((row) => ({
    row: row.row,
    email: row.email,
    outcome: row.outcome,
    ...(row.reason ? { reason: row.reason } : {}),
    ...(row.changes ? { changes: row.changes } : {}),
    ...(row.accountId ? { account_id: row.accountId } : {}),
  })),
});
