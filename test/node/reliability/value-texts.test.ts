// How a bad value is named in the error: the user sees what the field got (null, a list, an object,
// a number, a boolean, or the text itself, cut at 40 characters) and nothing is sent. Through
// n8n-core's engine against the sandbox; the ~200 seeded cases of bad-input.test.ts check that
// nothing is sent, these pin the words.

import type { INodeParameters } from 'n8n-workflow';

import { runWorkflow } from '../../harness/run-workflow';
import { byId, useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { credentialsFor, workflowError } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const run = async (parameters: INodeParameters) =>
	await runWorkflow({ credentials: credentialsFor(sandbox), nodes: [{ name: 'Node', parameters }] });

/** The error a node with these parameters fails with, after checking that it sent nothing. */
async function errorFor(parameters: INodeParameters) {
	const error = workflowError(await run(parameters));
	expect(sandbox.requests).toEqual([]);
	return error;
}

const messageFor = async (parameters: INodeParameters): Promise<string> => (await errorFor(parameters)).message;

const create = (indexIds: string): INodeParameters => ({ resource: 'session', operation: 'create', indexIds });
const ask = (prompt: string): INodeParameters => ({ resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'], prompt, conversationId: '' });
const get = (sessionId: string): INodeParameters => ({ resource: 'session', operation: 'get', sessionId: byId(sessionId) });
const inProject = (project: string): INodeParameters => ({ ...create('idx-q3-reports'), project: byId(project) });

const forty = 'abcdefghij'.repeat(4);

describe('what a bad value is called in the error', () => {
	it.each([
		['null', '={{ [null] }}', 'Indexes: expected index IDs as text, got null'],
		['a list', '={{ [[[["idx-q3-reports"]]]] }}', 'Indexes: expected index IDs as text, got a list'],
		['an object', '={{ [{ id: "idx-q3-reports" }] }}', 'Indexes: expected index IDs as text, got an object'],
		['a number', '={{ [42] }}', 'Indexes: expected index IDs as text, got a number'],
		['a boolean', '={{ [true] }}', 'Indexes: expected index IDs as text, got a boolean'],
		['longer text, cut at 40 characters', `={{ ["${forty} ${forty}"] }}`, `Indexes: "${forty}…" is not a valid index ID`],
	])('Indexes: %s', async (_kind, value, expected) => {
		expect(await messageFor(create(value))).toBe(expected);
	});

	it.each([
		['null', '={{ null }}'],
		['undefined', '={{ undefined }}'],
		['empty text', '={{ "" }}'],
		['an empty list', '={{ [] }}'],
	])('Indexes: %s is no index, which Ask refuses by name', async (_kind, value) => {
		const error = await errorFor({ ...ask('What grew in Q3?'), indexIds: value });
		expect(error.message).toBe('Indexes: choose at least one index to ask');
	});

	it('Indexes: text of exactly 40 characters is shown whole', async () => {
		const id = `${'a b '.repeat(9)}abcd`;
		expect(id).toHaveLength(40);
		expect(await messageFor(create(`={{ ["${id}"] }}`))).toBe(`Indexes: "${id}" is not a valid index ID`);
	});

	it.each([
		['null', '={{ null }}', 'Prompt is required, got null'],
		['empty text', '={{ "   " }}', 'Prompt is required, got "   "'],
		['an object', '={{ { q: "What grew?" } }}', 'Prompt must be text, got an object'],
		['a list', '={{ ["What grew?"] }}', 'Prompt must be text, got a list'],
		['a boolean', '={{ false }}', 'Prompt must be text, got a boolean'],
		['NaN (a number that is no question)', '={{ Number("x") }}', 'Prompt must be text, got a number'],
		['Infinity', '={{ 1 / 0 }}', 'Prompt must be text, got a number'],
	])('Prompt: %s', async (_kind, value, expected) => {
		expect(await messageFor(ask(value))).toBe(expected);
	});

	it.each([
		['null', '={{ null }}', 'Session is required, got null'],
		['an object', '={{ { id: 1 } }}', 'Session is required, got an object'],
		['text with a space', '={{ "ses 1" }}', 'Session "ses 1" is not a valid ID'],
		['only spaces', '={{ "   " }}', 'Session is required, got "   "'],
	])('Session: %s', async (_kind, value, expected) => {
		expect(await messageFor(get(value))).toBe(expected);
	});

	it('Session: a missing one says where to get it', async () => {
		expect((await errorFor(get('={{ "" }}'))).description).toBe(
			'Choose the session from the list or map it from a previous node, e.g. {{ $json.session_id }}.',
		);
	});

	it('Session: a number is a fine ID, so the request is made (and the sandbox does not know it)', async () => {
		expect(workflowError(await run(get('={{ 12345 }}'))).message).toMatch(/^LlamaCloud error 404/);
		expect(sandbox.requests.map((request) => request.path)).toEqual(['/api/v1/chat/12345']);
	});

	it('Project: not a UUID, naming the field and what to do', async () => {
		const error = await errorFor(inProject('={{ "q3 reports" }}'));
		expect(error.message).toBe('Project must be a UUID, got "q3 reports"');
		expect(error.description).toBe(
			"Pick the project from the list, paste its ID (like 2f0e1a2b-0000-4000-8000-000000000001), or leave it empty to use the API key's default.",
		);
	});

	it.each([
		['null', '={{ null }}'],
		['undefined', '={{ undefined }}'],
		['empty text', '={{ "" }}'],
	])("Project: %s is \"not set\": the API key's default project, with no project_id sent", async (_kind, value) => {
		expect((await run(inProject(value))).error).toBeUndefined();
		expect(sandbox.requests[0].query).toEqual({});
	});

	it('Project: a UUID with spaces around it is used without them', async () => {
		const project = sandbox.fixtures.defaultProjectId;
		expect((await run(inProject(`={{ "  ${project} " }}`))).error).toBeUndefined();
		expect(sandbox.requests[0].query).toEqual({ project_id: project });
	});
});
