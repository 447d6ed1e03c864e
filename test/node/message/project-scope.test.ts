// Message → Ask and Message → Send in a project that is not the API key's default: every request
// of the turn (Ask's create and clean-up, Send's summary lookup, the message itself) must carry the
// chosen organization_id and project_id. LlamaCloud, like the sandbox, falls back to the key's
// default project when they are missing, so tests in the default project cannot tell.

import type { IDataObject } from 'n8n-workflow';

import { runWorkflow, type RunResult } from '../../harness/run-workflow';
import { byId, useSandbox } from '../../harness/support';
import type { RecordedRequest, Sandbox } from '../../sandbox';
import { seedSession } from '../session/support';
import { credentialsFor, errorOf, expectNoApiKeyLeak, requestLines } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

function scope(): IDataObject {
	return {
		organization: byId(sandbox.fixtures.organizationId),
		project: byId(sandbox.fixtures.secondProjectId),
	};
}

/** Every request the node made named the chosen organization and project. */
function expectScoped(requests: RecordedRequest[]): void {
	expect(requests.length).toBeGreaterThan(0);
	for (const request of requests) {
		expect({ line: `${request.method} ${request.path}`, query: request.query }).toEqual({
			line: `${request.method} ${request.path}`,
			query: { organization_id: sandbox.fixtures.organizationId, project_id: sandbox.fixtures.secondProjectId },
		});
	}
}

async function run(parameters: IDataObject, items: IDataObject[] = [{}]): Promise<RunResult> {
	return await runWorkflow({
		credentials: credentialsFor(sandbox),
		items,
		nodes: [{ name: 'LlamaCloud', parameters: { ...scope(), ...parameters } }],
	});
}

function outputOf(result: RunResult): IDataObject {
	if (result.error) throw new Error(`The workflow failed: ${result.error.message}`);
	return result.output('LlamaCloud')[0].json;
}

describe('Messages in a project other than the key’s default', () => {
	const onboardingFaq = 'idx-onboarding-faq';

	it('Ask creates the session, asks and deletes it in the chosen project and organization', async () => {
		const output = outputOf(
			await run({
				resource: 'message',
				operation: 'ask',
				prompt: 'How do I reset my password?',
				indexIds: [onboardingFaq],
				options: { deleteSession: true },
			}),
		);

		expect(requestLines(sandbox)).toEqual(['POST /api/v1/chat', 'POST /api/v1/chat/:id/messages/stream', 'DELETE /api/v1/chat/:id']);
		expectScoped(sandbox.requests);
		expect(output.session_deleted).toBe(true);
		expect(output.answer).toEqual(expect.stringMatching(/\S/));
		expect(sandbox.getSession(output.session_id as string)).toBeUndefined();
		expect(sandbox.stats.sessionsDeleted).toBe(1);
	});

	it('Ask keeps the session in the chosen project when it is not deleted', async () => {
		const output = outputOf(
			await run({ resource: 'message', operation: 'ask', prompt: 'How do I reset my password?', indexIds: [onboardingFaq] }),
		);

		expectScoped(sandbox.requests);
		expect(sandbox.getSession(output.session_id as string)?.project_id).toBe(sandbox.fixtures.secondProjectId);
	});

	it('Send reads the session’s indexes and sends the message in the chosen project and organization', async () => {
		const sessionId = await seedSession(sandbox, { projectId: sandbox.fixtures.secondProjectId, indexIds: [onboardingFaq] });
		sandbox.clearRequests();

		const output = outputOf(
			await run({ resource: 'message', operation: 'send', sessionId: byId(sessionId), prompt: 'How do I reset my password?' }),
		);

		expect(requestLines(sandbox)).toEqual(['GET /api/v1/chat/:id/summary', 'POST /api/v1/chat/:id/messages/stream']);
		expectScoped(sandbox.requests);
		expect(output.session_id).toBe(sessionId);
		expect(sandbox.stats.turnsCompleted).toBe(1);
	});

	it('Send reports a session of another project as not found, rather than asking in the default project', async () => {
		const sessionId = await seedSession(sandbox, { indexIds: ['idx-q3-reports'] });
		sandbox.clearRequests();

		const result = await run({ resource: 'message', operation: 'send', sessionId: byId(sessionId), prompt: 'What grew in Q3?' });

		expect(errorOf(result).message).toBe('LlamaCloud error 404: Session not found');
		expect(sandbox.stats.turnsStarted).toBe(0);
		expectScoped(sandbox.requests);
		expectNoApiKeyLeak(sandbox, result);
	});
});
