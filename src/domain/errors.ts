/**
 * The one error type of Gatehouse (DESIGN.md §12.5): a stable `code`, the HTTP `status` it maps to,
 * a user-facing `message`, and a log-only `detail`. One middleware turns it into a page or JSON.
 */
export class GatehouseError extends Error {
  override name = 'GatehouseError';
  readonly code: string;
  readonly status: number;
  readonly detail: string | undefined;

  constructor(code: string, status: number, message: string, detail?: string) {
    super(message);
    this.code = code;
    this.status = status;
    this.detail = detail;
  }
}

export const badRequest = (message: string, code = 'invalid_request', detail?: string) =>
  new GatehouseError(code, 400, message, detail);
export const notFound = (message: string, code = 'not_found') => new GatehouseError(code, 404, message);
export const conflict = (message: string, code = 'conflict') => new GatehouseError(code, 409, message);
export const forbidden = (message: string, code = 'forbidden') => new GatehouseError(code, 403, message);
export const tooManyRequests = (message: string, code = 'too_many_requests') => new GatehouseError(code, 429, message);

export const isGatehouseError = (e: unknown): e is GatehouseError => e instanceof GatehouseError;
