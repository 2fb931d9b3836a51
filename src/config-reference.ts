// The documented defaults (config/defaults.env) generated from the configuration schema, so the
// documentation cannot drift from the code (a unit test compares them).
import { envSchema } from './config.ts';

interface Described {
  description?: string;
}

function defaultOf(schema: unknown): unknown {
  let s = schema as { _zod?: { def?: { type?: string; defaultValue?: unknown; innerType?: unknown; in?: unknown } } } | undefined;
  for (let i = 0; i < 6 && s; i++) {
    const def = s._zod?.def;
    if (def?.defaultValue !== undefined) return def.defaultValue;
    s = (def?.innerType ?? def?.in) as typeof s;
  }
  return undefined;
}

export function configReference(): string {
  const lines = [
    '# Gatehouse settings: every variable, its default, and what it does.',
    '# Generated from src/config.ts (npm run -s config:reference > config/defaults.env); unset variables take these defaults.',
    '',
  ];
  for (const [name, schema] of Object.entries(envSchema.shape)) {
    const description = (schema as Described).description ?? '';
    const value = defaultOf(schema);
    lines.push(`# ${description}`);
    lines.push(value === undefined ? `# ${name}=` : `${name}=${String(value)}`);
    lines.push('');
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(configReference());
