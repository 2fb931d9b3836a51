// The key for secrets at rest: GATEHOUSE_SECRET_KEY, or for the embedded default a key generated once
// into DATA_DIR/secret.key (with a warning: it must be backed up with the data and shared by instances).
import fs from 'node:fs';
import path from 'node:path';
import { createSecretBox, generateSecretKey, parseKeyring, type SecretBox } from './domain/secrets.ts';
import { ConfigError, type Config } from './config.ts';

export function loadSecretBox(config: Pick<Config, 'secretKeys' | 'dataDir'>, warn: (message: string) => void): SecretBox {
  try {
    if (config.secretKeys) return createSecretBox(parseKeyring(config.secretKeys));
  } catch {
    throw new ConfigError('GATEHOUSE_SECRET_KEY must be base64 of 32 random bytes (several, newest first, separated by commas)');
  }
  const file = path.join(config.dataDir, 'secret.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, `${generateSecretKey()}\n`, { mode: 0o600, flag: 'wx' });
    warn(`generated a new secret key in ${file}; back it up with the data, and set GATEHOUSE_SECRET_KEY in production`);
  }
  try {
    return createSecretBox(parseKeyring(fs.readFileSync(file, 'utf8')));
  } catch {
    throw new ConfigError(`${file} does not hold a valid key (base64 of 32 bytes); restore it from a backup or set GATEHOUSE_SECRET_KEY`);
  }
}
