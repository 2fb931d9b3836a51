/**
 * Acme MDR's own TOTP (RFC 6238 via otplib): SHA-1, 6 digits, 30 s, ±1 step, 160-bit secrets,
 * otpauth URI with issuer and account label, QR code as an inline PNG, grouped base32 setup key.
 */
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';

export const TOTP_PERIOD_SECONDS = 30;
const CODE_FORMAT = /^\d{6}$/;

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function otpauthUri(issuer: string, accountLabel: string, secret: string): string {
  return generateURI({ issuer, label: accountLabel, secret });
}

/** "JBSW Y3DP EHPK 3PXP …": easier to type into an authenticator by hand. */
export function formatSetupKey(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(' ') ?? secret;
}

export function qrCodeDataUrl(uri: string): Promise<string> {
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 1, width: 220 });
}

/** Spaces and dashes people type are ignored; anything but six digits is refused. */
export function normalizeTotpCode(input: string): string | undefined {
  const code = input.replace(/[\s-]/g, '');
  return CODE_FORMAT.test(code) ? code : undefined;
}

/**
 * The RFC 6238 time step `code` belongs to (current step ±1), or undefined. The caller must still
 * consume the step in the store, which refuses a step already used (replay).
 */
export async function matchTotpStep(secret: string, code: string, now: Date, afterStep?: number): Promise<number | undefined> {
  const token = normalizeTotpCode(code);
  if (token === undefined) return undefined;
  const result = await verify({
    secret,
    token,
    epoch: Math.floor(now.getTime() / 1000),
    period: TOTP_PERIOD_SECONDS,
    epochTolerance: TOTP_PERIOD_SECONDS,
    ...(afterStep !== undefined ? { afterTimeStep: afterStep } : {}),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}
