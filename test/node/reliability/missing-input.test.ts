// A first run reads like n8n's own errors: when a mapped field is missing from the input item, the
// error names the field and where it usually comes from, instead of "got a undefined".

import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { runWorkflow } from '../../harness/run-workflow';
import { byId, useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { credentialsFor, workflowError } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

/** The error the node fails with for an item from a Manual Trigger (no chat fields), after checking that nothing was sent. */
async function errorFor(parameters: INodeParameters, item: IDataObject = {}) {
	const error = workflowError(await runWorkflow({ credentials: credentialsFor(sandbox), nodes: [{ name: 'Node', parameters }], items: [item] }));
	expect(sandbox.requests).toEqual([]);
	return error;
}

describe('missing input names the field and where it comes from', () => {
	it("Ask with the default prompt {{ $json.chatInput }} after a Manual Trigger: no 'chatInput', which the Chat Trigger sends", async () => {
		const error = await errorFor({ resource: 'message', operation: 'ask', prompt: '={{ $json.chatInput }}', indexIds: ['idx-q3-reports'] });
		expect(error.message).toBe("Prompt is required: the input item has no 'chatInput' field");
		expect(error.description).toBe(
			"'Prompt' is {{ $json.chatInput }}, the message n8n's Chat Trigger sends. Connect a Chat Trigger (or use the editor's chat), or set 'Prompt' to the question or to the field that holds it, e.g. {{ $json.question }}.",
		);
	});

	it('a prompt mapped from another missing field names that field', async () => {
		const error = await errorFor({ resource: 'message', operation: 'ask', prompt: '={{ $json["question"] }}', indexIds: ['idx-q3-reports'] }, { q: 'What grew?' });
		expect(error.message).toBe("Prompt is required: the input item has no 'question' field");
		expect(error.description).toBe("'Prompt' is {{ $json[\"question\"] }}. Map the field that holds the question, or type the question.");
	});

	it('a prompt expression that gives nothing says so', async () => {
		const error = await errorFor({ resource: 'message', operation: 'ask', prompt: '={{ $json.chat?.text }}', indexIds: ['idx-q3-reports'] });
		expect(error.message).toBe('Prompt is required: its expression {{ $json.chat?.text }} gave nothing for this item');
	});

	it("Send with the default Session {{ $json.session_id }}: no 'session_id', which Create, Send and Ask output", async () => {
		const error = await errorFor({ resource: 'message', operation: 'send', sessionId: byId('={{ $json.session_id }}'), prompt: 'What grew?' });
		expect(error.message).toBe("Session is required: the input item has no 'session_id' field");
		expect(error.description).toBe(
			"'Session' is {{ $json.session_id }}, the session that Session → Create, Message → Send and Message → Ask output. Put one of them before this node, or pick the session from the list.",
		);
	});

	it("Indexes mapped from a missing field fail by name, rather than creating an unbound session", async () => {
		const error = await errorFor({ resource: 'session', operation: 'create', indexIds: '={{ $json.index_ids }}' });
		expect(error.message).toBe("Indexes: the input item has no 'index_ids' field");
		expect(error.description).toBe("'Indexes' is {{ $json.index_ids }}. Map the field that holds the index IDs, or pick the indexes from the list.");
	});
});
