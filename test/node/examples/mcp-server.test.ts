/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- Node.js test code, never run inside n8n */
import { join } from 'node:path';

import { sandboxCredentials, useSandbox } from '../../harness/support';
import { runWorkflowFile, SAMPLE_TOOL_CALL } from '../../harness/workflow-file';
import type { Sandbox } from '../../sandbox';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'mcp-server.json');

describe('examples/mcp-server.json (MCP Server Trigger → LlamaCloud Chat Tool)', () => {
	it("answers an MCP client's tool call as a tool: the answer and its sources, the session deleted", async () => {
		const result = await runWorkflowFile(EXAMPLE, { credentials: sandboxCredentials(sandbox) });

		expect(result.error).toBeUndefined();
		const [{ json }] = result.output('Ask my documents');
		expect(Object.keys(json).sort()).toEqual(['answer', 'sources']);
		expect(json.answer).toContain('Q3 revenue grew 12%');
		expect(json.sources).toMatch(/^\*\*Sources\*\*\n- q3-2026-board-report\.pdf, p\. 2/);
		const streamed = sandbox.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/messages/stream'));
		expect(streamed.map((request) => (request.body as { prompt?: string }).prompt)).toEqual([SAMPLE_TOOL_CALL.prompt]);
		expect(sandbox.stats).toMatchObject({ sessionsCreated: 1, sessionsDeleted: 1 });
	});
});
