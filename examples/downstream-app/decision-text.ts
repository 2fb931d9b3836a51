/** Plain-language explanations of the local-2FA decision codes, for the dashboard and the 2FA page. */
import type { LocalMfaReason } from '../../src/relying-party/index.ts';

export const REASON_TEXT = {
  unified_mfa_satisfied: 'Gatehouse performed multi-factor authentication, so Acme MDR did not ask for its own code.',
  unified_no_mfa_local_required: 'Gatehouse did not perform multi-factor authentication for this sign-in, and two-factor authentication is on in Acme MDR, so Acme MDR asks for its own code.',
  unified_mfa_stale_local_required: 'Gatehouse performed multi-factor authentication, but longer ago than Acme MDR accepts, so Acme MDR asks for its own code.',
  direct_local_required: 'You signed in with your Acme MDR password and two-factor authentication is on, so Acme MDR asks for its own code.',
  local_disabled: 'Two-factor authentication is off in Acme MDR and no second factor was required.',
  unified_not_phishing_resistant: 'Acme MDR requires a passkey or security key, and Gatehouse did not use one for this sign-in.',
} satisfies Record<LocalMfaReason, string>;
