/**
 * Errors of the access layer, each with a stable code.
 *
 * @example
 * throw new AuthError('E_AUTH_USERS_FILE', 'data/users.json /users/0/role: expected viewer, operator or admin');
 */
export type AuthErrorCode = 'E_AUTH_USERS_FILE' | 'E_AUTH_PASSWORD' | 'E_AUTH_CONFIG' | 'E_AUTH_AUDIT';

export class AuthError extends Error {
  readonly code: AuthErrorCode;
  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthError';
    this.code = code;
  }
}
