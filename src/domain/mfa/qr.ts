// The QR code of an otpauth URI for the enrolment page, as a PNG data URL (works without JavaScript).
import QRCode from 'qrcode';

export function qrCodeDataUrl(text: string): Promise<string> {
  return QRCode.toDataURL(text, { type: 'image/png', errorCorrectionLevel: 'M', margin: 2, width: 240 });
}
