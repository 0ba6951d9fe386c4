// Each test file gets its own host-wide lock directory: suites run in parallel and reuse runbook names (phase65),
// and deployctl's host lock would otherwise make them wait for each other like real concurrent deployments.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

process.env['DEPLOYCTL_LOCK_DIR'] = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-test-host-locks-'));
