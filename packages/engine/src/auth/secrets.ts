/**
 * Secrets come only from the environment or from files, never from config text or the repo:
 * `NAME` holds the secret itself, `NAME_FILE` the path of a file holding it (the Docker/Kubernetes
 * secrets convention). Setting both is an error, so an operator never wonders which one won.
 *
 * @example
 * const pw = await readSecret(process.env, 'RETIMUAD_KAFKA_PASSWORD'); // undefined when neither is set
 */
import { readFile } from 'node:fs/promises';
import { AuthError } from './errors.ts';

export async function readSecret(env: Record<string, string | undefined>, name: string): Promise<string | undefined> {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  const hasDirect = direct !== undefined && direct !== '';
  const hasFile = file !== undefined && file !== '';
  if (hasDirect && hasFile)
    throw new AuthError('E_AUTH_CONFIG', `both ${name} and ${name}_FILE are set: keep one of them`);
  if (hasDirect) return direct;
  if (hasFile) return readSecretFile(file, `${name}_FILE`);
  return undefined;
}

/** Reads a secret file; one trailing newline (as editors and `echo` add) is not part of the secret. */
export async function readSecretFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AuthError('E_AUTH_CONFIG', `${what}: cannot read secret file ${path} (${(err as Error).message})`, {
      cause: err,
    });
  }
  const s = text.replace(/\r?\n$/, '');
  if (s === '') throw new AuthError('E_AUTH_CONFIG', `${what}: secret file ${path} is empty`);
  return s;
}
