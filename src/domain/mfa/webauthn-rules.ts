// The pure rules of passkeys and security keys (WebAuthn): which `amr` value an assertion proves, the
// signature-counter rule that detects a cloned authenticator, and the name a new credential gets.
// No I/O; each has a table test (test/unit/mfa/webauthn-rules.test.ts).

/**
 * `hwk` or `swk` (RFC 8176): Gatehouse asks for attestation `none`, so the authenticator's make is
 * never proved. What every assertion does report is the backup state (BS flag): a backed-up
 * credential is a synced passkey whose private key a password manager or platform keychain copies
 * between devices, a key held in software; a credential that is not backed up stays in the
 * authenticator that made it (a security key, a platform authenticator's secure element).
 * So: backed up → `swk`, otherwise `hwk`. Both are phishing resistant (the key only signs for this RP ID).
 */
export function webauthnKeyKind(assertion: { backedUp: boolean }): 'hwk' | 'swk' {
  return assertion.backedUp ? 'swk' : 'hwk';
}

export type SignCountVerdict = 'advanced' | 'not_counting' | 'regressed';

/**
 * WebAuthn §6.1.1: an authenticator that counts signatures reports a larger number every time. A
 * number that does not grow means two copies of the key are in use: the credential was cloned, and the
 * assertion is refused. An authenticator that does not count (many synced passkeys) reports 0 always.
 */
export function signCountVerdict(stored: number, received: number): SignCountVerdict {
  if (stored === 0 && received === 0) return 'not_counting';
  return received > stored ? 'advanced' : 'regressed';
}

/**
 * Names of well-known authenticator models by AAGUID (from the community-maintained
 * passkey-authenticator-aaguids list); only used to suggest a label the user recognises.
 */
const AAGUID_NAMES: Readonly<Record<string, string>> = {
  'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4': 'Google Password Manager',
  'adce0002-35bc-c60a-648b-0b25f1f05503': 'Chrome on Mac',
  'fbfc3007-154e-4ecc-8c0b-6e020557d7bd': 'iCloud Keychain',
  '08987058-cadc-4b81-b6e1-30de50dcbe96': 'Windows Hello',
  '9ddd1817-af5a-4672-a2b9-3e3dd95000a9': 'Windows Hello',
  '6028b017-b1d4-4c02-b4b3-afcdafc96bb2': 'Windows Hello',
  'bada5566-a7aa-401f-bd96-45619a55120d': '1Password',
  'd548826e-79b4-db40-a3d8-11116f7e8349': 'Bitwarden',
  'cb69481e-8ff7-4039-93ec-0a2729a154a8': 'YubiKey 5 Series',
  'ee882879-721c-4913-9775-3dfcce97072a': 'YubiKey 5 Series',
  'fa2b99dc-9e39-4257-8f92-4a30d23c4118': 'YubiKey 5 Series with NFC',
  '2fc0579f-8113-47ea-b116-bb5a8db9202a': 'YubiKey 5 Series with NFC',
};

/**
 * The label of a new credential: what the user typed, else the model's name when its AAGUID is known,
 * else "Security key" for a roaming key (USB, NFC or Bluetooth only) and "Passkey" otherwise.
 */
export function webauthnLabel(input: { typed?: string | undefined; aaguid: string; transports: readonly string[] }): string {
  const typed = input.typed?.trim();
  if (typed) return typed.slice(0, 100);
  const known = AAGUID_NAMES[input.aaguid.toLowerCase()];
  if (known) return known;
  const roaming = input.transports.length > 0 && input.transports.every((t) => t === 'usb' || t === 'nfc' || t === 'ble');
  return roaming ? 'Security key' : 'Passkey';
}
