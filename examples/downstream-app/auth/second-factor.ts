/**
 * Checking Acme MDR's own second factor for a user: a TOTP code (step consumed once) or a recovery
 * code (consumed once). Returns what was proven, or null.
 */
import type { DownstreamStore, LocalUser } from '../store/types.ts';
import { findRecoveryCode } from './recovery-codes.ts';
import { matchTotpStep } from './totp.ts';

export type LocalFactor = 'totp' | 'recovery_code';

export async function verifyLocalSecondFactor(
  store: Pick<DownstreamStore, 'consumeTotpStep' | 'consumeRecoveryCode'>,
  user: LocalUser,
  input: { code?: string | undefined; recoveryCode?: string | undefined },
  now: Date,
): Promise<LocalFactor | null> {
  const totp = user.totp;
  if (!totp) return null;
  if (input.code) {
    const step = await matchTotpStep(totp.secret, input.code, now, totp.lastUsedStep);
    if (step !== undefined && (await store.consumeTotpStep(user.id, step))) return 'totp';
    return null;
  }
  if (input.recoveryCode) {
    const codeId = await findRecoveryCode(totp.recoveryCodes, input.recoveryCode);
    if (codeId !== undefined && (await store.consumeRecoveryCode(user.id, codeId))) return 'recovery_code';
  }
  return null;
}
