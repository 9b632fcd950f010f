/**
 * Logs: search by text, level, asset and time range, newest first, the search text
 * highlighted (as text, never HTML); beside them the rare and new templates (messages with
 * their variable parts masked), a click on one searching for it. Refreshed every 10 s.
 *
 * @example
 * const stop = logs(rootEl);
 */
import { api } from '../api.ts';
import { fmtTime } from '../format.ts';
import { h, mount } from '../h.ts';
import { splitHighlight } from '../text.ts';

const SPANS = [
  { label: 'last 15 min', ms: 15 * 60_000 },
  { label: 'last hour', ms: 3_600_000 },
  { label: 'last 24 h', ms: 24 * 3_600_000 },
  { label: 'all time', ms: 0 },
] as const;
/** A template is "rare" at or below this many messages. */
const RARE_MAX = 3;

const LEVELS = ['', 'trace', 'debug', 'info', 'notice', 'warn', 'error', 'critical', 'alert', 'emergency'];

export function logs(root: HTMLElement): () => void {
  const q = h('input', { type: 'search', placeholder: 'search messages', 'aria-label': 'search', maxlength: 200 });
  const level = h(
    'select',
    { 'aria-label': 'level' },
    LEVELS.map((l) => h('option', { value: l }, l || 'any level')),
  );
  const asset = h('input', { type: 'text', placeholder: 'asset', 'aria-label': 'asset', maxlength: 128 });
  const span = h(
    'select',
    { 'aria-label': 'time range', id: 'log-span' },
    SPANS.map((s, i) => h('option', { value: String(s.ms), selected: i === 1 }, s.label)),
  );
  const templateList = h('ul', { class: 'templates', id: 'log-templates' });
  const tbody = h('tbody');
  const note = h('span', { class: 'muted' });
  let seq = 0;

  const load = (): void => {
    const mine = ++seq;
    const spanMs = Number(span.value);
    const now = Date.now();
    const range = spanMs > 0 ? { from: now - spanMs, to: now } : {};
    const text = q.value.trim();
    api.logs({ q: text, level: level.value, asset: asset.value.trim(), ...range, limit: 500 }).then(
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
                    splitHighlight(r.message, text ? [text] : []).map((p) =>
                      p.hit ? h('mark', null, p.text) : p.text,
                    ),
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
    api.logTemplates({ ...(asset.value.trim() ? { asset: asset.value.trim() } : {}), limit: 200 }).then(
      (all) => {
        if (mine !== seq) return;
        const since = spanMs > 0 ? now - spanMs : -Infinity;
        const shown = all.filter((t) => t.count <= RARE_MAX || t.firstTime >= since).slice(0, 30);
        mount(
          templateList,
          shown.length
            ? shown.map((t) =>
                h(
                  'li',
                  {
                    class: 'clickable',
                    title: `e.g. ${t.example}`,
                    // Searching for the text before the first variable part finds its messages.
                    onclick: () => {
                      q.value = t.template.split('<*>')[0]!.trim() || t.example;
                      load();
                    },
                  },
                  t.firstTime >= since && spanMs > 0 ? h('span', { class: 'badge sev-warning' }, 'new') : null,
                  t.count <= RARE_MAX ? h('span', { class: 'badge sev-info' }, 'rare') : null,
                  h('code', null, t.template),
                  h('span', { class: 'muted' }, ` ×${t.count} · ${t.assets.join(', ')} · last ${fmtTime(t.lastTime)}`),
                ),
              )
            : h('li', { class: 'muted' }, 'No rare or new templates.'),
        );
      },
      () => mount(templateList, h('li', { class: 'muted' }, 'Templates unavailable.')),
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
  span.addEventListener('change', load);

  mount(
    root,
    h(
      'div',
      { class: 'toolbar' },
      h('h2', null, 'Logs'),
      q,
      level,
      asset,
      span,
      h('button', { onclick: load }, 'Refresh'),
      note,
    ),
    h('section', { class: 'panel' }, h('h3', null, 'Rare and new templates'), templateList),
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
