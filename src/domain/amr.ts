// The amr/acr contract of DESIGN.md §6. Each factor reports what it proved; `amr` is collected from
// the factors and `acr` derived from `amr` by one function. Values from RFC 8176, plus `fed`.
import { badRequest } from './errors.ts';

/**
 * WebAuthn factors: `hwk`/`swk` is a passkey or security key used after a first factor; `passkey_hwk`/
 * `passkey_swk` is a discoverable credential with user verification used alone (passwordless). Which of
 * hwk and swk a WebAuthn assertion proves is decided by `webauthnKeyKind` (docs/passkeys.md).
 */
export type Factor = 'pwd' | 'otp' | 'recovery_code' | 'fed' | 'fed_mfa' | 'remembered' | 'hwk' | 'swk' | 'passkey_hwk' | 'passkey_swk';
export type Amr = 'pwd' | 'fed' | 'hwk' | 'swk' | 'otp' | 'user' | 'mfa';

export const ACR_1FA = 'urn:gatehouse:acr:1fa';
export const ACR_MFA = 'urn:gatehouse:acr:mfa';
/** Phishing-resistant MFA: only WebAuthn reaches it (the credential is bound to Gatehouse's origin). */
export const ACR_PHR = 'urn:gatehouse:acr:phr';
export const PAPE_MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
export const ACR_VALUES_SUPPORTED = [ACR_1FA, ACR_MFA, ACR_PHR] as const;

export type Acr = (typeof ACR_VALUES_SUPPORTED)[number];
/** What a request or policy demands, weakest first; each level satisfies the ones before it. */
export type RequestedAcr = '1fa' | 'mfa' | 'phr';

/** What each factor contributes to `amr`. A recovery code stands in for the authenticator, so it says `otp`. */
export const FACTOR_AMR = {
  pwd: ['pwd'],
  otp: ['otp'],
  recovery_code: ['otp'],
  fed: ['fed'],
  // An upstream IdP that did MFA and is trusted for it; reported alongside `fed`.
  fed_mfa: ['mfa'],
  // A browser remembered after an earlier code: MFA was proved then, no code was typed now (no `otp`).
  remembered: ['mfa'],
  hwk: ['hwk'],
  swk: ['swk'],
  // Possession of the key plus the authenticator's user verification (PIN or biometric): two factors
  // in one ceremony, so the factor itself says `mfa`.
  passkey_hwk: ['hwk', 'user', 'mfa'],
  passkey_swk: ['swk', 'user', 'mfa'],
} as const satisfies Record<Factor, readonly Amr[]>;

/** `first` proves who the user is, `second` is a possession factor, `mfa` is MFA proved by the factor alone. */
const FACTOR_ROLE = {
  pwd: 'first',
  fed: 'first',
  otp: 'second',
  recovery_code: 'second',
  hwk: 'second',
  swk: 'second',
  fed_mfa: 'mfa',
  remembered: 'mfa',
  passkey_hwk: 'mfa',
  passkey_swk: 'mfa',
} as const satisfies Record<Factor, 'first' | 'second' | 'mfa'>;

/** The factors that prove possession of a second factor at Gatehouse (`otp`, `recovery_code`, …). */
export type SecondFactor = { [F in Factor]: (typeof FACTOR_ROLE)[F] extends 'second' ? F : never }[Factor];

const AMR_ORDER: readonly Amr[] = ['pwd', 'fed', 'hwk', 'swk', 'otp', 'user', 'mfa'];

/** The session's `amr`, in a fixed order whatever order the factors came in. */
export function amrFor(factors: readonly Factor[]): Amr[] {
  const collected = new Set<Amr>(factors.flatMap((f) => FACTOR_AMR[f]));
  const roles = new Set(factors.map((f) => FACTOR_ROLE[f]));
  if (roles.has('first') && roles.has('second')) collected.add('mfa');
  return AMR_ORDER.filter((value) => collected.has(value));
}

/** Whether these factors together are multi-factor authentication (a second factor here, or MFA proved upstream). */
export const provesMfa = (factors: readonly Factor[]): boolean => amrFor(factors).includes('mfa');

/** MFA that included a WebAuthn key is phishing resistant; any other MFA is `mfa`. */
export function acrFromAmr(amr: readonly string[]): Acr {
  if (!amr.includes('mfa')) return ACR_1FA;
  return amr.includes('hwk') || amr.includes('swk') ? ACR_PHR : ACR_MFA;
}

const ACR_MEANING = new Map<string, RequestedAcr>([
  [ACR_PHR, 'phr'],
  [ACR_MFA, 'mfa'],
  [PAPE_MFA, 'mfa'],
  [ACR_1FA, '1fa'],
]);

/**
 * The level an authorization request asks for, from its `acr_values` and an essential `acr` claim in
 * its `claims` parameter (the request's parameters as oidc-provider holds them). Unknown values are
 * ignored; the strongest known value wins (a list that also names a weaker level is never read as a
 * downgrade).
 */
export function requestedAcr(params: { acr_values?: unknown; claims?: unknown }): RequestedAcr | undefined {
  const acrValues = typeof params.acr_values === 'string' ? params.acr_values.split(/\s+/) : [];
  const requested = [...acrValues, ...essentialAcrValues(params.claims)]
    .map((value) => ACR_MEANING.get(value))
    .filter((meaning) => meaning !== undefined);
  return LEVELS.findLast((level) => requested.includes(level));
}

const LEVELS: readonly RequestedAcr[] = ['1fa', 'mfa', 'phr'];
const ACR_LEVEL = { [ACR_1FA]: '1fa', [ACR_MFA]: 'mfa', [ACR_PHR]: 'phr' } as const satisfies Record<Acr, RequestedAcr>;


/** The request's `claims` parameter arrives as JSON text from a page's view of it, or parsed from the provider's. */
function essentialAcrValues(claims: unknown): string[] {
  if (typeof claims !== 'string' && (typeof claims !== 'object' || claims === null)) return [];
  const parsed: unknown = typeof claims === 'string' ? parseClaims(claims) : claims;
  const acr = field(field(parsed, 'id_token'), 'acr');
  if (field(acr, 'essential') !== true) return [];
  const value = field(acr, 'value');
  const values = field(acr, 'values');
  return [value, ...(Array.isArray(values) ? values : [])].filter((v): v is string => typeof v === 'string');
}

function parseClaims(claims: string): unknown {
  try {
    return JSON.parse(claims);
  } catch {
    throw badRequest('The claims parameter is not valid JSON.');
  }
}

const field = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;

/** Whether a session with this `amr` meets the requirement: `phr` satisfies `mfa`, never the reverse. */
export function satisfiesAcr(requested: RequestedAcr | undefined, amr: readonly string[]): boolean {
  if (requested === undefined) return true;
  return LEVELS.indexOf(ACR_LEVEL[acrFromAmr(amr)]) >= LEVELS.indexOf(requested);
}
