// The one error type the rest of the UI sees from the backend.

import type { AppErrorCode } from './bindings';

/**
 * What went wrong, as a stable code the UI can switch on:
 * - an `AppErrorCode` the Rust side chose;
 * - `unavailable`: the page is not running inside the Offbeat shell;
 * - `ipc`: the call never reached a command (a missing command, a bad
 *   argument, a dialog plugin failure).
 */
export type BackendErrorCode = AppErrorCode | 'unavailable' | 'ipc';

export class BackendError extends Error {
  readonly code: BackendErrorCode;

  constructor(code: BackendErrorCode, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }

  /**
   * Turns anything a Tauri call can reject or return as an error into a
   * `BackendError`. Commands reject with a serialized `AppError`; the IPC layer
   * rejects with a plain string or an `Error`.
   */
  static from(raw: unknown): BackendError {
    if (raw instanceof BackendError) return raw;
    if (raw instanceof Error) return new BackendError('ipc', raw.message);
    if (typeof raw === 'string') return new BackendError('ipc', raw);
    if (isAppError(raw)) return new BackendError(raw.code, raw.message);
    return new BackendError('ipc', 'The Offbeat backend returned an unexpected error.');
  }
}

const APP_ERROR_CODES: readonly string[] = ['notFound', 'badInput', 'library', 'playback', 'io'];

function isAppError(raw: unknown): raw is { code: AppErrorCode; message: string } {
  if (typeof raw !== 'object' || raw === null) return false;
  const { code, message } = raw as Record<string, unknown>;
  return typeof code === 'string' && APP_ERROR_CODES.includes(code) && typeof message === 'string';
}

/** A sentence for a person, whatever was thrown. */
export function errorMessage(raw: unknown): string {
  return BackendError.from(raw).message;
}
