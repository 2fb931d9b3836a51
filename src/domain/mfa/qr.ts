// The QR code of an otpauth URI for the enrolment page, as a PNG data URL (works without JavaScript).
// qrcode is loaded on the first enrolment page, not at start-up.
export async function qrCodeDataUrl(text: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toDataURL(text, { type: 'image/png', errorCorrectionLevel: 'M', margin: 2, width: 240 });
}
