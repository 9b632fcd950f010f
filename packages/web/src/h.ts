/**
 * A tiny DOM builder that only ever puts data into the page as text: children become text
 * nodes, attributes go through setAttribute, and URLs must be same-origin paths.
 *
 * @example
 * h('td', { class: 'num' }, value.toFixed(2));
 * h('button', { onclick: () => refresh() }, 'Refresh');
 */
export type Child = Node | string | number | null | undefined | false | readonly Child[];
type Listener = (ev: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener>;

/** Only same-origin paths and fragments are allowed in src/href, so data cannot inject `javascript:` URLs. */
export function safeUrl(url: string): string {
  return /^(\/(?!\/)|#)/.test(url) ? url : '#';
}

export function append(el: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c as readonly Child[]);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c as string | number)));
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') {
      if (!k.startsWith('on')) throw new Error(`h(): function given for non-event attribute ${k}`);
      el.addEventListener(k.slice(2), v);
    } else if (k === 'style' || k === 'innerHTML' || k.startsWith('on')) {
      // Inline styles are blocked by the CSP and inline handlers would be script injection.
      throw new Error(`h(): attribute ${k} is not allowed`);
    } else if (k === 'src' || k === 'href') {
      el.setAttribute(k, safeUrl(String(v)));
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

/** Replaces an element's content. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A panel holding a table with the given column headings over `body` (a tbody the caller fills). */
export function panelTable(headings: readonly string[], body: HTMLTableSectionElement): HTMLElement {
  return h(
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
          headings.map((t) => h('th', null, t)),
        ),
      ),
      body,
    ),
  );
}
