// `gatehouse user import`: users from another platform, with their password hashes and the
// authenticators they already use, from a CSV or JSON file. The command line acts as the trusted local
// operator (audited as `cli`), through the same use case as POST /api/v1/tenants/{id}/imports.
import fs from 'node:fs';
import type { Runtime } from '../runtime.ts';
import { cliActor } from '../domain/admin/index.ts';
import { badRequest } from '../domain/errors.ts';
import { emailAddress } from '../domain/directory.ts';
import { importReportJson, rowsFromFile } from '../domain/import/users.ts';
import { bootstrapOf } from '../setup/routes.ts';
import type { Command } from './commands.ts';
import { UsageError, str } from './flags.ts';

function readFile(path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw badRequest(`The file ${path} cannot be read (${code === 'ENOENT' ? 'it does not exist' : (code ?? 'unknown error')}).`, 'invalid_import');
  }
}

export const importCommands: Record<string, Command> = {
  'user import': {
    summary: 'import users (CSV or JSON: email, name, role, password_hash, totp_secret); re-running the same file changes nothing',
    flags: {
      tenant: { type: 'string', required: true, description: 'tenant id or slug' },
      file: { type: 'string', required: true, description: 'users.csv (header line naming the columns) or users.json (a list of objects)' },
      'dry-run': { type: 'boolean', description: 'check every row and report what would happen, without changing anything' },
      notify: { type: 'string', description: 'email address that gets the one summary mail of the import' },
    },
    check(flags) {
      const file = str(flags, 'file') ?? '';
      if (!/\.(csv|json)$/i.test(file)) throw new UsageError('--file must name a .csv or .json file');
      const notify = str(flags, 'notify');
      if (notify !== undefined && !emailAddress.safeParse(notify).success) throw new UsageError('--notify must be an email address');
    },
    async run(runtime: Runtime, flags) {
      const file = str(flags, 'file') ?? '';
      const rows = rowsFromFile(file, readFile(file));
      const platform = await bootstrapOf(runtime).platform();
      const notify = str(flags, 'notify');
      const report = await runtime.userImport.run(
        { actor: cliActor(platform.id), request: { requestId: 'cli' } },
        { tenant: str(flags, 'tenant') ?? '', rows, dryRun: flags['dry-run'] === true, notify: notify ? { email: notify, name: null } : undefined },
      );
      return importReportJson(report);
    },
    text(result) {
      const r = result as ReturnType<typeof importReportJson>;
      const lines = r.rows.map((row) => [row.row, row.email ?? '', row.outcome, row.reason ?? (row.changes?.join(' ') || '')].join('\t'));
      const s = r.summary;
      const head = `${r.dry_run ? 'Dry run (nothing was changed): ' : ''}${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged, ${s.rejected} rejected in ${r.tenant.slug}.`;
      return [head, '', ['row', 'email', 'outcome', 'detail'].join('\t'), ...lines].join('\n');
    },
  },
};
