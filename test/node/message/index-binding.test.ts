// Hardening: which indexes Message → Send searches must never be decided by the incoming item.
// Item JSON comes from upstream nodes, webhooks and chat clients; a session's binding comes from
// LlamaCloud. Run through n8n-core's engine against the sandbox, like every node test.

import type { IDataObject } from 'n8n-workflow';

import { runWorkflow, type WorkflowNode } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { bodyOf, createSessionDirectly, credentialsFor, errorOf, requestLines, streamRequests } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const send = (parameters: IDataObject = {}): WorkflowNode => ({
	name: 'Send',
	// The session comes from the incoming item, as after Create: ={{ $json.session_id }} (the default).
	parameters: { resource: 'message', operation: 'send', prompt: 'What grew in Q3?', ...parameters },
});

/** Runs Send on one item that an upstream node (or a webhook caller) made up. */
async function sendWithItem(item: IDataObject, parameters: IDataObject = {}) {
	sandbox.clearRequests();
	return await runWorkflow({ credentials: credentialsFor(sandbox), items: [item], nodes: [send(parameters)] });
}

describe('Message → Send never takes the index binding from the incoming item', () => {
	it("fails for an unbound session, even when the item claims index_ids, and sends nothing", async () => {
		const sessionId = await createSessionDirectly(sandbox, null);
		const result = await sendWithItem({ session_id: sessionId, index_ids: ['idx-support-tickets'] });
		const error = errorOf(result);
		expect(error.message).toBe(`Session ${sessionId} is not bound to any index`);
		expect(error.description).toContain("'Indexes'");
		expect(streamRequests(sandbox)).toHaveLength(0);
		expect(sandbox.stats.turnsStarted).toBe(0);
	});

	it("sends a bound session's own indexes, whatever the item claims, and the binding stays", async () => {
		const sessionId = await createSessionDirectly(sandbox, ['idx-q3-reports']);
		const result = await sendWithItem({ session_id: sessionId, index_ids: ['idx-support-tickets'] });
		expect(result.error).toBeUndefined();
		expect(requestLines(sandbox)).toEqual(['GET /api/v1/chat/:id/summary', 'POST /api/v1/chat/:id/messages/stream']);
		expect(bodyOf(streamRequests(sandbox)[0]).index_ids).toEqual(['idx-q3-reports']);
		expect(result.output('Send')[0].json.answer).toContain('Q3 reports');
		expect(sandbox.getSession(sessionId)?.index_ids).toEqual(['idx-q3-reports']);
	});

	it('never sends objects from the item as "[object Object]"', async () => {
		const sessionId = await createSessionDirectly(sandbox, ['idx-q3-reports']);
		const result = await sendWithItem({ session_id: sessionId, index_ids: [{ id: 'idx-support-tickets' }] });
		expect(result.error).toBeUndefined();
		expect(bodyOf(streamRequests(sandbox)[0]).index_ids).toEqual(['idx-q3-reports']);
	});

	it("refuses an 'Indexes' value that differs from a bound session's set (e.g. mapped from the item), before sending", async () => {
		const sessionId = await createSessionDirectly(sandbox, ['idx-q3-reports']);
		const result = await sendWithItem(
			{ session_id: sessionId, index_ids: ['idx-q3-reports', 'idx-support-tickets'] },
			{ indexIds: '={{ $json.index_ids }}' },
		);
		const error = errorOf(result);
		expect(error.message).toBe(
			`Indexes: session ${sessionId} is bound to idx-q3-reports, and a message cannot search other indexes`,
		);
		expect(error.description).toContain("Leave 'Indexes' empty");
		expect(streamRequests(sandbox)).toHaveLength(0);
		expect(sandbox.getSession(sessionId)?.index_ids).toEqual(['idx-q3-reports']);
	});

	it("accepts 'Indexes' repeating the bound set in another order, and sends the session's own order", async () => {
		const sessionId = await createSessionDirectly(sandbox, ['idx-q3-reports', 'idx-product-handbook']);
		const result = await sendWithItem({ session_id: sessionId }, { indexIds: ['idx-product-handbook', 'idx-q3-reports'] });
		expect(result.error).toBeUndefined();
		expect(bodyOf(streamRequests(sandbox)[0]).index_ids).toEqual(['idx-q3-reports', 'idx-product-handbook']);
	});

	it('validates the item-mapped Indexes of an unbound session like typed ones', async () => {
		const sessionId = await createSessionDirectly(sandbox, null);
		const result = await sendWithItem({ session_id: sessionId, index_ids: ['idx ../other'] }, { indexIds: '={{ $json.index_ids }}' });
		expect(errorOf(result).message).toBe('Indexes: "idx ../other" is not a valid index ID');
		expect(streamRequests(sandbox)).toHaveLength(0);
	});
});
