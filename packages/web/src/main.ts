/**
 * Dashboard entry: sign-in, then a hash router over the views and the shared live connection.
 * Routes: #/overview, #/signals[/site/asset], #/incidents[/id], #/logs, #/analytics, #/health.
 * The signed-in user's role is on <body data-role>, and views disable what it may not do.
 *
 * @example
 * // loaded by index.html as <script type="module" src="/main.js">
 */
import { api, setUnauthenticatedHandler, type Me } from './api.ts';
import { fmtTime } from './format.ts';
import { h, mount } from './h.ts';
import { startLive, stopLive } from './live.ts';
import { analytics } from './views/analytics.ts';
import { health } from './views/health.ts';
import { incidentDetail, incidents } from './views/incidents.ts';
import { signIn } from './views/login.ts';
import { logs } from './views/logs.ts';
import { overview } from './views/overview.ts';
import { signals } from './views/signals.ts';
import { session } from './session.ts';

const view = document.getElementById('view')!;
const userBox = document.getElementById('user')!;
let stop: (() => void) | undefined;

function route(): void {
  stop?.();
  stop = undefined;
  if (!session.me) return;
  const parts = location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return '';
      }
    });
  const [name = 'overview', a, b] = parts;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('#nav a'))
    link.classList.toggle('active', link.dataset.view === (name || 'overview'));
  switch (name) {
    case 'signals':
      stop = signals(view, { ...(a ? { site: a } : {}), ...(b ? { asset: b } : {}) });
      break;
    case 'incidents':
      stop = a ? incidentDetail(view, a) : incidents(view);
      break;
    case 'logs':
      stop = logs(view);
      break;
    case 'analytics':
      stop = analytics(view);
      break;
    case 'health':
      stop = health(view);
      break;
    default:
      stop = overview(view);
  }
}

const dot = document.getElementById('live-dot')!;
const liveText = document.getElementById('live-text')!;

function signedIn(me: Me): void {
  session.me = me;
  document.body.dataset['role'] = me.role;
  mount(
    userBox,
    h('span', { id: 'user-name', title: `signed in as ${me.name} (${me.role})` }, `${me.name} · ${me.role}`),
    h(
      'button',
      {
        id: 'sign-out',
        onclick: () => {
          api.signOut().then(signedOut, signedOut);
        },
      },
      'Sign out',
    ),
  );
  startLive((on) => {
    dot.className = on ? 'dot on' : 'dot off';
    liveText.textContent = on ? 'live' : 'reconnecting';
  });
  route();
}

function signedOut(): void {
  stop?.();
  stop = undefined;
  stopLive();
  session.me = undefined;
  delete document.body.dataset['role'];
  userBox.replaceChildren();
  stop = signIn(view, signedIn);
}

setUnauthenticatedHandler(() => {
  if (session.me) signedOut();
});
const clock = document.getElementById('clock')!;
setInterval(() => (clock.textContent = fmtTime(Date.now())), 1000);
window.addEventListener('hashchange', route);
api.me().then(signedIn, signedOut);
