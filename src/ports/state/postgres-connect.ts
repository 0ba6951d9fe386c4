// Connecting to the PostgreSQL state: the URL as libpq reads it, session settings, and driver errors turned into sentences that never hold the password.
import * as os from 'node:os';
import pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { ExitCode } from '../../errors.js';
import { urlSecrets } from './location.js';
import { StateStoreError } from './store.js';

/** A connection that does not come up in this long is reported, not waited on. */
const CONNECT_TIMEOUT_MS = 10_000;

export async function connectClient(url: string, describe: (error: unknown) => StateStoreError, applicationName: string): Promise<pg.Client> {
  let client: pg.Client;
  try {
    const config = parseIntoClientConfig(url);
    // As libpq does: without a user in the URL, $PGUSER, else the name of the user running deployctl ($USER may be unset).
    const user = config.user !== undefined && config.user !== '' ? config.user : (process.env['PGUSER'] ?? process.env['USER'] ?? os.userInfo().username);
    client = new pg.Client({ ...config, user, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true, application_name: applicationName });
  } catch (error) {
    throw describe(error);
  }
  // An 'error' event with no listener would end the process: every client has one from the start.
  client.on('error', () => undefined);
  try {
    await client.connect();
    // A host that vanishes without closing its connection (power loss) keeps its lock until the server notices: ask it
    // to check after 30 s of silence (TCP only; ignored on a Unix socket, where a dead peer is seen at once).
    await client.query("SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3; SET statement_timeout = '60s'");
  } catch (error) {
    await client.end().catch(() => undefined);
    throw describe(error);
  }
  return client;
}

/** Turn a driver error into a sentence that names the database (password masked) and the likely fix; `clean` masks the password in any text. */
export function errorDescriber(url: string, shown: string): { describe: (error: unknown) => StateStoreError; clean: (text: string) => string } {
  const secrets = urlSecrets(url);
  const clean = (text: string) => secrets.reduce((t, s) => t.split(s).join('***'), text);
  const describe = (error: unknown): StateStoreError => {
    if (error instanceof StateStoreError) return error;
    const e = error as { code?: string; message?: string };
    const message = clean(String(e.message ?? error));
    const at = `the state database ${shown}`;
    const described = (() => {
      switch (e.code) {
        case 'ERR_INVALID_URL':
          return new StateStoreError(`${shown} is not a valid URL: ${message}`, 'write it as postgres://user:password@host:port/database, or postgres:///database?host=/socket/dir', ExitCode.usage);
        case 'ECONNREFUSED':
        case 'ENOENT':
          return new StateStoreError(`cannot connect to ${at}: ${message}`, 'is PostgreSQL running there? check the host, port and socket directory in the URL');
        case 'ENOTFOUND':
        case 'EAI_AGAIN':
          return new StateStoreError(`cannot connect to ${at}: unknown host (${message})`, 'check the host name in the URL');
        case '28P01':
        case '28000':
          return new StateStoreError(`${at} refused the login: ${message}`, 'check the user and password (put the password in the URL, ~/.pgpass or PGPASSWORD)');
        case '3D000':
          return new StateStoreError(`${at} does not exist: ${message}`, 'create the database first (createdb NAME), then run again: deployctl creates its tables itself');
        case '42501':
          return new StateStoreError(`${at}: permission denied: ${message}`, 'the user needs CREATE on the database the first time (deployctl creates its schema), then read and write on schema deployctl');
        default:
          return new StateStoreError(`${at}: ${message}`);
      }
    })();
    (described as { cause?: unknown }).cause = { code: e.code };
    return described;
  };
  return { describe, clean };
}
