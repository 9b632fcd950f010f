/**
 * The generated files of deploy/: path (from the repository root) → content. Used by
 * deploy/grafana/generate.mjs to write them and by a test to find stale ones.
 *
 * @example
 * renderDeployFiles()['deploy/kibana/saved-objects.ndjson'] // → '{"type":"index-pattern",…}\n…'
 */
import { kibanaNdjson } from '../elasticsearch/kibana.ts';
import { grafanaDashboards } from './grafana.ts';

export function renderDeployFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const d of grafanaDashboards())
    files[`deploy/grafana/dashboards/${d.uid}.json`] = `${JSON.stringify(d, null, 2)}\n`;
  files['deploy/kibana/saved-objects.ndjson'] = kibanaNdjson();
  return files;
}
