#!/usr/bin/env node
// The installed `gatehouse` command. The CLI is TypeScript run by Node's type stripping, which needs
// Node 24.11 or later; `#!/usr/bin/env node` finds whatever `node` is first on PATH, often an older
// system Node. This file is plain JavaScript that any Node can parse: when the running Node cannot
// strip types, it runs the CLI again under the Node 24 the project installs (the `node` dev
// dependency), or says clearly what to install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REEXEC = 'GATEHOUSE_CLI_REEXEC';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const canRun = (major > 24 || (major === 24 && minor >= 11)) && Boolean(process.features.typescript);

if (canRun) {
  const { runCli } = await import(path.join(root, 'src', 'cli', 'main.ts'));
  process.exitCode = await runCli(process.argv.slice(2), (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(`${s}\n`));
} else {
  const candidates = [path.join(root, 'node_modules', 'node', 'bin', 'node'), path.join(root, 'node_modules', '.bin', 'node')];
  const projectNode = process.env[REEXEC] ? undefined : candidates.find((c) => existsSync(c));
  if (!projectNode) {
    process.stderr.write(
      `gatehouse needs Node.js 24.11 or later with type stripping (this is Node ${process.versions.node}${process.features.typescript ? '' : ', type stripping off'}).\n` +
        `Install Node 24 LTS, or run "npm install" in ${root} (it installs Node 24 for the project) and use "npm run gatehouse -- <command>".\n`,
    );
    process.exit(1);
  }
  const run = spawnSync(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [REEXEC]: '1' },
  });
  if (run.error) {
    process.stderr.write(`gatehouse could not start ${projectNode}: ${run.error.message}\n`);
    process.exit(1);
  }
  if (run.signal) process.kill(process.pid, run.signal);
  process.exit(run.status ?? 1);
}
