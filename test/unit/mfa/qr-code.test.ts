import { describe, it, expect } from '@jest/globals';
import jsqr from 'jsqr';
import pngjs from 'pngjs';
import { qrCodeDataUrl } from '../../../src/domain/mfa/qr.ts';
import { totpUri } from '../../../src/domain/mfa/totp.ts';

describe('enrolment QR code', () => {
  it('is a 240-pixel PNG data URL that scans back to the otpauth URI', async () => {
    const uri = totpUri({ issuer: 'Gatehouse', label: 'ana@example.com', secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' });
    const dataUrl = await qrCodeDataUrl(uri);
    expect(dataUrl.startsWith('data:image/png;base64,')).toBe(true);

    const png = pngjs.PNG.sync.read(Buffer.from(dataUrl.slice('data:image/png;base64,'.length), 'base64'));
    expect(png.width).toBe(240);
    // jsqr is CommonJS whose types declare an ES default export, so the function is `.default`.
    const decoded = jsqr.default(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(decoded?.data).toBe(uri);
  });
});
