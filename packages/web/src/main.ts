/**
 * Dashboard entry: a hash router over the five views and the shared live connection.
 * Routes: #/overview, #/signals[/site/asset], #/incidents[/id], #/logs, #/health.
 *
 * @example
 * // loaded by index.html as <script type="module" src="/main.js">
 */
import { fmtTime } from './format.ts';
import { startLive } from './live.ts';
import { health } from './views/health.ts';
import { incidentDetail, incidents } from './views/incidents.ts';
import { logs } from './views/logs.ts';
import { overview } from './views/overview.ts';
import { signals } from './views/signals.ts';

const view = document.getElementById('view')!;
let stop: (() => void) | undefined;

function route(): void {
  stop?.();
  stop = undefined;
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
    case 'health':
      stop = health(view);
      break;
    default:
      stop = overview(view);
  }
}

const dot = document.getElementById('live-dot')!;
const liveText = document.getElementById('live-text')!;
startLive((on) => {
  dot.className = on ? 'dot on' : 'dot off';
  liveText.textContent = on ? 'live' : 'reconnecting';
});
const clock = document.getElementById('clock')!;
setInterval(() => (clock.textContent = fmtTime(Date.now())), 1000);
window.addEventListener('hashchange', route);
route();
