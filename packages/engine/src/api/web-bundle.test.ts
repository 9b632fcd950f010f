import { describe, it, expect } from 'vitest';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWeb, WebBuildError } from './web-bundle.ts';

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

describe('buildWeb', () => {
  it('bundles the dashboard with uPlot and copies its page and styles', async () => {
    const { files } = await buildWeb();
    expect([...files.keys()].sort()).toEqual(['/index.html', '/main.js', '/main.js.map', '/styles.css', '/uplot.css']);
    const js = text(files.get('/main.js')?.body);
    expect(files.get('/main.js')?.type).toBe('text/javascript; charset=utf-8');
    // uPlot is inlined (its class name appears in the bundle), and nothing is left to import at runtime.
    expect(js).toContain('uplot');
    expect(js).not.toMatch(/\bimport\s*[{*\w][^;]*from\s*["']/);
    const html = text(files.get('/index.html')?.body);
    expect(html).toContain('src="/main.js"');
    // The CSP forbids inline scripts: the page may only load scripts by src.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(text(files.get('/uplot.css')?.body)).toContain('.uplot');
  });

  it('fails with a coded error naming the entry when the source does not compile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retimu-web-'));
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'main.ts'), 'import { nope } from "./missing.ts";\nnope();\n');
    const err = await buildWeb({ webDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebBuildError);
    expect((err as WebBuildError).code).toBe('WEB_BUILD_FAILED');
    expect((err as WebBuildError).message).toContain(join(dir, 'src', 'main.ts'));
  });
});
