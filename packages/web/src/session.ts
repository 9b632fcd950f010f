/**
 * Who is signed in, shared by the views (role checks disable buttons; the server enforces them).
 *
 * @example
 * if (canAct()) showButtons();
 */
import type { Me } from './api.ts';

export const session: { me: Me | undefined } = { me: undefined };

/** Operators and admins may acknowledge, comment and resolve. */
export function canAct(): boolean {
  return session.me?.role === 'operator' || session.me?.role === 'admin';
}
