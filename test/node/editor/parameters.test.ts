// What the editor shows: n8n builds the parameter panel from the node's description, and fills in
// the defaults of a freshly added node with NodeHelpers.getNodeParameters, as done here.

import { NodeHelpers, type INode, type INodeProperties, type INodeTypeDescription } from 'n8n-workflow';

import { LlamaCloudChat } from '../../../nodes/LlamaCloudChat/LlamaCloudChat.node';
import { NODE_TYPE, toolVariant } from '../../harness/node-types';
import { buildWorkflow } from '../../harness/run-workflow';

const node = new LlamaCloudChat();

function collections(properties: INodeProperties[]): INodeProperties[] {
	return properties.filter((property) => property.type === 'collection');
}

/** The parameters n8n gives a freshly added node of `description` with `values` chosen, after the user adds `options`. */
function freshOptions(description: INodeTypeDescription, values: Record<string, unknown>): Record<string, unknown> {
	const parameters = NodeHelpers.getNodeParameters(
		description.properties,
		{ ...values },
		true,
		false,
		{ typeVersion: 1, parameters: {} } as unknown as INode,
		description,
	);
	return (parameters?.options ?? {}) as Record<string, unknown>;
}

describe('the editor', () => {
	it('lists the options of every collection alphabetically, as n8n does', () => {
		const lists = collections(node.description.properties);
		expect(lists.length).toBeGreaterThan(5);
		for (const collection of lists) {
			const names = (collection.options as INodeProperties[]).map((option) => option.displayName);
			expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
		}
	});

	it('describes every option in one or two sentences', () => {
		const tooLong: string[] = [];
		for (const collection of collections(node.description.properties)) {
			for (const option of collection.options as INodeProperties[]) {
				const sentences = (option.description ?? '').split(/(?<=[.!?])\s+(?=[A-Z0-9])/).filter(Boolean);
				if (sentences.length < 1 || sentences.length > 2) tooLong.push(`${option.displayName}: ${sentences.length}`);
			}
		}
		expect(tooLong).toEqual([]);
	});

	it("names streaming as n8n's AI Agent does, 'Enable Streaming', under the parameter name saved workflows use", () => {
		const ask = collections(node.description.properties).find((collection) =>
			(collection.options as INodeProperties[]).some((option) => option.name === 'streamToChat'),
		);
		const option = (ask?.options as INodeProperties[]).find((candidate) => candidate.name === 'streamToChat');
		expect(option?.displayName).toBe('Enable Streaming');
	});

	it('shows the tool variant the Delete Session After Answer default that applies there (on), and the plain node its own (off)', () => {
		const option = (description: INodeTypeDescription, tool: boolean) =>
			collections(description.properties)
				.flatMap((collection) => collection.options as INodeProperties[])
				.filter((candidate) => candidate.name === 'deleteSession')
				.find((candidate) => (candidate.displayOptions?.show?.['@tool'] !== undefined) === tool);
		expect(option(toolVariant(node).description, true)?.default).toBe(true);
		expect(option(node.description, false)?.default).toBe(false);
		expect(freshOptions(node.description, { resource: 'message', operation: 'ask' })).toEqual({});
	});

	it.each([
		[{ resource: 'message', operation: 'ask' }, ['main', 'ai_memory']],
		[{}, ['main', 'ai_memory']], // a fresh node: Message → Ask
		[{ resource: 'message', operation: 'send' }, ['main']],
		[{ resource: 'session', operation: 'create' }, ['main']],
		[{ resource: 'session', operation: 'getAll' }, ['main']],
	])('offers the Memory input on Message → Ask only (%j)', (parameters, inputs) => {
		const workflow = buildWorkflow([{ name: 'LlamaCloud Chat', parameters }]);
		const configured = NodeHelpers.getNodeInputs(workflow, workflow.getNode('LlamaCloud Chat') as INode, node.description);
		const types = (Array.isArray(configured) ? configured : []).map((input) => (typeof input === 'string' ? input : input.type));
		expect(types).toEqual(inputs);
		expect(workflow.getNode('LlamaCloud Chat')?.type).toBe(NODE_TYPE);
	});
});
