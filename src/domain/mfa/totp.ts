// TOTP (RFC 6238) as DESIGN.md §9 fixes it: SHA-1, 6 digits, 30 s steps, ±1 step, 160-bit secrets.
// otplib computes the codes; replay protection is the caller's atomic compare-and-set of the step
// that `matchTotpStep` returns.
import { timingSafeEqual } from 'node:crypto';
import { createGuardrails, generateSecret, generateSync, ScureBase32Plugin } from 'otplib';
import { badRequest } from '../errors.ts';

export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_WINDOW_STEPS = 1;

const SECRET_BYTES = 20;
const MIN_SECRET_BITS = 80;
const MAX_SECRET_BYTES = 64;

// otplib refuses secrets under 128 bits by default; we accept imported 80-bit secrets (the classic
// Google Authenticator length), so the floor is lowered to ours.
const guardrails = createGuardrails({ MIN_SECRET_BYTES: MIN_SECRET_BITS / 8 });
const base32 = new ScureBase32Plugin();

export function generateTotpSecret(): string {
  return generateSecret({ length: SECRET_BYTES });
}

/** Normalises a base32 secret typed or pasted by a person; refuses anything an authenticator would not accept. */
export function parseBase32Secret(input: string): string {
  const secret = input.replace(/\s+/g, '').replace(/=+$/, '').toUpperCase();
  if (secret === '') throw badRequest('Enter the setup key.');
  if (!/^[A-Z2-7]+$/.test(secret)) {
    throw badRequest('The setup key must contain only the letters A–Z and the digits 2–7.');
  }
  const bytes = secret.length * 5 < MIN_SECRET_BITS ? 0 : decodedLength(secret);
  if (bytes * 8 < MIN_SECRET_BITS) throw badRequest(`The setup key is too short: it must hold at least ${MIN_SECRET_BITS} bits (16 characters).`);
  if (bytes > MAX_SECRET_BYTES) throw badRequest(`The setup key is too long: it may hold at most ${MAX_SECRET_BYTES * 8} bits.`);
  return secret;
}

// A key that encodes whole bytes has a length of 0, 2, 4, 5 or 7 modulo 8 and zero bits after the
// last byte; anything else has a character missing, extra or mistyped.
function decodedLength(secret: string): number {
  try {
    return base32.decode(secret).length;
  } catch {
    throw badRequest('The setup key is not valid: a character is missing, extra or mistyped.');
  }
}

/** `ABCD EFGH IJKL …` — easier to read out and type than one long run. */
export function formatSetupKey(secret: string): string {
  return (secret.match(/.{1,4}/g) ?? []).join(' ');
}

/** Key URI format: label `issuer:account`, each part percent-encoded, the parameters spelled out. */
export function totpUri({ issuer, label, secret }: { issuer: string; label: string; secret: string }): string {
  const params = new URLSearchParams({
    secret,
    issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  });
  // URLSearchParams writes spaces as '+', which some authenticator apps show literally.
  const query = params.toString().replace(/\+/g, '%20');
  return `otpauth://totp/${encodeURIComponent(issuer)}:${encodeURIComponent(label)}?${query}`;
}

export function totpStep(now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

function codeForStep(secret: string, step: number): string {
  return generateSync({ strategy: 'hotp', secret, counter: step, digits: TOTP_DIGITS, algorithm: 'sha1', guardrails });
}

/**
 * The time step whose code equals `code` within ±1 step of `now`, or null. The caller must store the
 * step with a compare-and-set (`last_used_step < step`) so a code is never accepted twice.
 */
export function matchTotpStep(secret: string, code: string, now: Date): number | null {
  const candidate = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(candidate)) return null;
  const current = totpStep(now);
  const steps = [current, current - TOTP_WINDOW_STEPS, current + TOTP_WINDOW_STEPS].filter((s) => s >= 0);
  let matched: number | null = null;
  // Every step is computed and compared, so the time taken does not say which one matched.
  for (const step of steps) {
    const equal = timingSafeEqual(Buffer.from(codeForStep(secret, step)), Buffer.from(candidate));
    if (equal && matched === null) matched = step;
  }
  return matched;
}
