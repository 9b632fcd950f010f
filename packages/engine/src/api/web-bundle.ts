/**
 * Builds the operator dashboard into memory with esbuild when the server starts: the
 * bundled `main.js` (with uPlot), `index.html`, `styles.css` and uPlot's CSS. Nothing is
 * written to disk, so there is no build step to forget.
 *
 * @example
 * const { files } = await buildWeb();
 * files.get('/main.js'); // { body: Uint8Array, type: 'text/javascript; charset=utf-8' }
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface WebFile {
  body: Uint8Array;
  type: string;
}

export interface BuildWebOptions {
  /** The dashboard folder (holding index.html, styles.css, src/main.ts); defaults to packages/web. */
  webDir?: string;
  minify?: boolean;
}

export class WebBuildError extends Error {
  readonly code = 'WEB_BUILD_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebBuildError';
  }
}

export const defaultWebDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

function typeOf(path: string): string {
  const dot = path.lastIndexOf('.');
  return TYPES[path.slice(dot)] ?? 'application/octet-stream';
}

async function readOrFail(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new WebBuildError(`dashboard ${what} not readable at ${path}`, { cause });
  }
}

/** Bundles the dashboard; keys of `files` are URL paths ("/index.html", "/main.js", ...). */
export async function buildWeb(opts: BuildWebOptions = {}): Promise<{ files: Map<string, WebFile> }> {
  const webDir = opts.webDir ?? defaultWebDir;
  const entry = join(webDir, 'src', 'main.ts');
  let result;
  try {
    result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      target: 'es2022',
      platform: 'browser',
      outfile: 'main.js',
      minify: opts.minify ?? true,
      sourcemap: 'linked',
      logLevel: 'silent',
      legalComments: 'none',
    });
  } catch (cause) {
    throw new WebBuildError(
      `dashboard bundle failed for ${entry}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
  const files = new Map<string, WebFile>();
  for (const f of result.outputFiles) {
    const name = `/${f.path.slice(f.path.lastIndexOf('/') + 1)}`;
    files.set(name, { body: f.contents, type: typeOf(name) });
  }
  files.set('/index.html', { body: await readOrFail(join(webDir, 'index.html'), 'index.html'), type: TYPES['.html']! });
  files.set('/styles.css', { body: await readOrFail(join(webDir, 'styles.css'), 'styles.css'), type: TYPES['.css']! });
  // Resolved from the dashboard folder so the same uPlot copy serves the JS and the CSS.
  const uplotJs = createRequire(join(webDir, 'package.json')).resolve('uplot');
  const uplotCss = join(dirname(uplotJs), 'uPlot.min.css');
  files.set('/uplot.css', { body: await readOrFail(uplotCss, "uPlot's CSS"), type: TYPES['.css']! });
  return { files };
}
