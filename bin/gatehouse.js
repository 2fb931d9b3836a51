#!/usr/bin/env node
// Runs the TypeScript CLI with Node's type stripping (Node 24 LTS).
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const { runCli } = await import(path.join(here, '..', 'src', 'cli', 'main.ts'));
process.exitCode = await runCli(process.argv.slice(2), (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(`${s}\n`));
