// Session → Get Many, filter "Last Updated Before" at its boundary: "before" is strict, so a session
// last updated exactly at the given moment is not returned (a cleanup must not delete a session
// touched at the cut-off). Through n8n's engine against the sandbox.

import { runWorkflow } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { sandboxCredentials } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const UPDATED_AT = new Date('2026-11-20T10:00:00.000Z');

async function updatedBefore(cutoff: string): Promise<string[]> {
	const result = await runWorkflow({
		credentials: sandboxCredentials(sandbox),
		nodes: [{ name: 'Get Many', parameters: { resource: 'session', operation: 'getAll', returnAll: true, filters: { updatedBefore: cutoff } } }],
	});
	if (result.error) throw new Error(`The workflow failed: ${result.error.message}`);
	return result.output('Get Many').map((item) => item.json.session_id as string);
}

describe('Session → Get Many: Last Updated Before at the boundary', () => {
	it('leaves out a session updated exactly at the given moment, and returns it one millisecond later', async () => {
		const [session] = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 1, { lastUpdatedAt: UPDATED_AT });
		expect(sandbox.getSession(session).last_updated_at).toMatch(/^2026-11-20T10:00:00/);

		expect(await updatedBefore('2026-11-20T10:00:00.000Z')).toEqual([]);
		expect(await updatedBefore('2026-11-20T10:00:00.001Z')).toEqual([session]);
		expect(await updatedBefore('2026-11-20T09:59:59.999Z')).toEqual([]);
	});
});
