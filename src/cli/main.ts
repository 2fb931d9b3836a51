// The `gatehouse` command. Exit codes: 0 success, 1 failure, 2 usage error.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../http/logger.ts';
import { isGatehouseError } from '../domain/errors.ts';
import type { Runtime } from '../runtime.ts';
import { commands, type Command } from './commands.ts';
import { UsageError, type Flags } from './flags.ts';
import { cliSessionStore } from './sessions.ts';

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  gatehouse ${name.padEnd(22)} ${c.summary}`);
  return `Usage: gatehouse <command> [flags] [--json]\n\nCommands:\n${lines.join('\n')}\n\nRun "gatehouse <command> --help" for its flags. Configuration comes from the same environment as the server (DATABASE_URL, DATA_DIR, ...).`;
}

function commandUsage(name: string, c: Command): string {
  const flags = Object.entries(c.flags).map(
    ([f, s]) => `  --${f}${s.type === 'string' ? ' VALUE' : ''}${s.multiple ? ' (repeatable)' : ''}${s.required ? ' (required)' : ''}\n      ${s.description}`,
  );
  return `Usage: gatehouse ${name} [flags] [--json]\n${c.summary}\n\n${flags.join('\n') || '  (no flags)'}`;
}

function resolve(argv: string[]): { name: string; command: Command; rest: string[] } {
  for (const words of [3, 2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = commands[name];
    if (command && argv.slice(0, words).every((w) => !w.startsWith('-'))) return { name, command, rest: argv.slice(words) };
  }
  // the command is the words before the first flag (flag values are not part of it)
  const firstFlag = argv.findIndex((a) => a.startsWith('-'));
  const words = firstFlag === -1 ? argv : argv.slice(0, firstFlag);
  throw new UsageError(words.length ? `unknown command "${words.join(' ')}"` : 'no command given');
}

export async function runCli(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let asJson = argv.includes('--json');
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
      out(usage());
      return argv.length === 0 ? 2 : 0;
    }
    const { name, command, rest } = resolve(argv);
    if (rest.includes('--help')) {
      out(commandUsage(name, command));
      return 0;
    }
    let flags: Flags;
    try {
      const options = Object.fromEntries(
        Object.entries(command.flags).map(([f, s]) => [f, { type: s.type, ...(s.multiple ? { multiple: true } : {}) }]),
      ) as Parameters<typeof parseArgs>[0] extends infer P ? (P extends { options?: infer O } ? O : never) : never;
      flags = parseArgs({ args: rest, options: { ...options, json: { type: 'boolean' } }, strict: true, allowPositionals: false }).values as Flags;
    } catch (e) {
      throw new UsageError(`${(e as Error).message}\n\n${commandUsage(name, command)}`);
    }
    asJson = flags.json === true;
    for (const [f, s] of Object.entries(command.flags)) {
      if (s.required && (flags[f] === undefined || flags[f] === '')) throw new UsageError(`--${f} is required\n\n${commandUsage(name, command)}`);
    }
    command.check?.(flags);

    const config = loadConfig();
    const logger = createLogger({ logLevel: process.env.LOG_LEVEL ? config.logLevel : 'warn' }, pino.destination(2));
    let runtime: Runtime | undefined;
    try {
      // the stores and services load only once the command line is valid: a usage error answers at once
      const { openRuntime } = await import('../runtime.ts');
      runtime = await openRuntime(config, logger, { role: 'client' });
      runtime.sessions.bind(cliSessionStore(runtime));
      const result = await command.run(runtime, flags);
      out(asJson ? JSON.stringify(result, null, 2) : command.text(result));
      return 0;
    } finally {
      await runtime?.close();
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(asJson ? JSON.stringify({ error: 'usage', error_description: e.message }) : `gatehouse: ${e.message}\n\n${e.message.includes('Usage:') ? '' : usage()}`);
      return 2;
    }
    const message = e instanceof ConfigError || isGatehouseError(e) ? e.message : `unexpected failure: ${(e as Error).message}`;
    const code = isGatehouseError(e) ? e.code : e instanceof ConfigError ? 'invalid_configuration' : 'failed';
    err(asJson ? JSON.stringify({ error: code, error_description: message }) : `gatehouse: ${message}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const code = await runCli(process.argv.slice(2), (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(`${s}\n`));
  process.exitCode = code;
}
