/**
 * Sign-in form: username and password, posted as JSON to /api/session, which sets an
 * HttpOnly cookie; the password never stays in the page.
 *
 * @example
 * const stop = signIn(rootEl, (me) => start(me));
 */
import { api, type Me } from '../api.ts';
import { h, mount } from '../h.ts';

export function signIn(root: HTMLElement, done: (me: Me) => void): () => void {
  const user = h('input', {
    id: 'login-user',
    name: 'username',
    autocomplete: 'username',
    required: true,
    maxlength: 64,
  });
  const pass = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    maxlength: 1024,
  });
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', id: 'login-submit' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'panel login',
      onsubmit: (e: Event) => {
        e.preventDefault();
        button.disabled = true;
        error.textContent = '';
        api.signIn(user.value.trim(), pass.value).then(
          (me) => {
            pass.value = '';
            done(me);
          },
          (err: unknown) => {
            button.disabled = false;
            pass.value = '';
            error.textContent = err instanceof Error ? err.message : String(err);
          },
        );
      },
    },
    h('h2', null, 'Sign in to the control room'),
    h('label', null, 'Username', user),
    h('label', null, 'Password', pass),
    button,
    error,
  );
  mount(root, form);
  user.focus();
  return () => undefined;
}
