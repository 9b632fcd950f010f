/**
 * Logs: text search, level and asset filters, newest first; refreshed every 10 s.
 *
 * @example
 * const stop = logs(rootEl);
 */
import { api } from '../api.ts';
import { fmtTime } from '../format.ts';
import { h, mount } from '../h.ts';

const LEVELS = ['', 'trace', 'debug', 'info', 'notice', 'warn', 'error', 'critical', 'alert', 'emergency'];

export function logs(root: HTMLElement): () => void {
  const q = h('input', { type: 'search', placeholder: 'search messages', 'aria-label': 'search', maxlength: 200 });
  const level = h(
    'select',
    { 'aria-label': 'level' },
    LEVELS.map((l) => h('option', { value: l }, l || 'any level')),
  );
  const asset = h('input', { type: 'text', placeholder: 'asset', 'aria-label': 'asset', maxlength: 128 });
  const tbody = h('tbody');
  const note = h('span', { class: 'muted' });
  let seq = 0;

  const load = (): void => {
    const mine = ++seq;
    api.logs({ q: q.value.trim(), level: level.value, asset: asset.value.trim(), limit: 500 }).then(
      (rows) => {
        if (mine !== seq) return;
        note.textContent = `${rows.length} records · ${fmtTime(Date.now())}`;
        mount(
          tbody,
          rows.length
            ? rows.map((r) =>
                h(
                  'tr',
                  null,
                  h('td', null, fmtTime(r.time)),
                  h('td', { class: `lvl-${r.level}` }, r.level),
                  h('td', null, r.asset),
                  h(
                    'td',
                    null,
                    r.message,
                    Object.keys(r.fields).length ? h('pre', { class: 'raw' }, JSON.stringify(r.fields)) : null,
                  ),
                ),
              )
            : h('tr', null, h('td', { colspan: 4, class: 'muted' }, 'No matching records.')),
        );
      },
      (err: unknown) => {
        if (mine === seq) note.textContent = `Could not load logs: ${err instanceof Error ? err.message : String(err)}`;
      },
    );
  };

  let debounce: ReturnType<typeof setTimeout> | undefined;
  const later = (): void => {
    clearTimeout(debounce);
    debounce = setTimeout(load, 300);
  };
  q.addEventListener('input', later);
  asset.addEventListener('input', later);
  level.addEventListener('change', load);

  mount(
    root,
    h(
      'div',
      { class: 'toolbar' },
      h('h2', null, 'Logs'),
      q,
      level,
      asset,
      h('button', { onclick: load }, 'Refresh'),
      note,
    ),
    h(
      'div',
      { class: 'panel' },
      h(
        'table',
        null,
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Time', 'Level', 'Asset', 'Message'].map((t) => h('th', null, t)),
          ),
        ),
        tbody,
      ),
    ),
  );
  load();
  const timer = setInterval(load, 10_000);
  return () => {
    clearInterval(timer);
    clearTimeout(debounce);
  };
}
