import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { MessageOptions } from '../../turn';
import { MAX_PROMPT_LENGTH } from '../../helpers/validation';

export const promptProperty: INodeProperties = {
	displayName: 'Prompt',
	name: 'prompt',
	type: 'string',
	typeOptions: { rows: 3 },
	required: true,
	default: '',
	placeholder: 'What were the main findings in Q3?',
	description: `The question or message, at most ${MAX_PROMPT_LENGTH} characters`,
};

export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 120_000;

/**
 * How long a whole turn may take, from sending the message to its last event. LlamaCloud documents
 * no limit for a turn; the turns its docs record take seconds (`duration_ms` 5,321.7 for a run of
 * 3 agent steps, reference §7.3), and each step is bounded in practice by the model's own time.
 * 10 minutes is five Stream Idle Timeouts: room for an agent loop over 10 indexes with long
 * reasoning, while a turn held open by keep-alives alone still ends the same hour.
 */
export const DEFAULT_TURN_TIMEOUT_MS = 600_000;

/** Options of the operations that send a message (Send and Ask). */
export const messageOptions: INodeProperties[] = [
	{
		displayName: 'Append Sources',
		name: 'appendSources',
		type: 'options',
		options: [
			{ name: 'When Streaming', value: 'streaming', description: 'Only when the answer streams into a chat' },
			{ name: 'Always', value: 'always' },
			{ name: 'Never', value: 'never' },
		],
		default: 'streaming',
		description: 'Whether to add a short list of the cited files and pages after the answer, in the streamed text, `output` and `sources_markdown`',
	},
	{
		displayName: 'Include Raw Events',
		name: 'includeEvents',
		type: 'boolean',
		default: false,
		description: 'Whether to add every streamed event of the turn, in order (`events`)',
	},
	{
		displayName: 'Require All Indexes',
		name: 'requireAllIndexes',
		type: 'boolean',
		default: false,
		description: 'Whether LlamaCloud should fail the turn when any of the indexes cannot be queried. Sent only when set (newer API revisions).',
	},
	{
		displayName: 'Simplify',
		name: 'simplify',
		type: 'boolean',
		default: true,
		description: 'Whether to return only the answer, citations and usage instead of also the prompt, indexes, reasoning and stop event',
	},
	{
		// Named as n8n's AI Agent names it; the parameter keeps its first name, so saved workflows keep their choice.
		displayName: 'Enable Streaming',
		name: 'streamToChat',
		type: 'boolean',
		default: true,
		description:
			"Whether to stream the answer into n8n's chat as it is written, when the trigger streams its response (Chat Trigger, or Webhook with Response Mode 'Streaming'). Needs n8n 1.105 or newer.",
	},
	{
		displayName: 'Stream Idle Timeout (Ms)',
		name: 'streamIdleTimeout',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: DEFAULT_STREAM_IDLE_TIMEOUT_MS,
		description:
			'Fail when LlamaCloud sends no event for this long while the answer streams, in milliseconds. Keep-alive comments do not count.',
	},
	{
		displayName: 'Turn Timeout (Ms)',
		name: 'turnTimeout',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: DEFAULT_TURN_TIMEOUT_MS,
		description:
			'Fail the turn and close its connection when LlamaCloud has not finished answering this long after the message was sent, in milliseconds. The default, 10 minutes, leaves long agent turns room: the turns LlamaCloud documents take seconds.',
	},
];

export function readMessageOptions(context: IExecuteFunctions, itemIndex: number): MessageOptions {
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const idle = Number(options.streamIdleTimeout ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS);
	const turn = Number(options.turnTimeout ?? DEFAULT_TURN_TIMEOUT_MS);
	return {
		includeEvents: options.includeEvents === true,
		simplify: options.simplify !== false,
		idleTimeoutMs: Number.isFinite(idle) && idle > 0 ? idle : DEFAULT_STREAM_IDLE_TIMEOUT_MS,
		turnTimeoutMs: Number.isFinite(turn) && turn > 0 ? turn : DEFAULT_TURN_TIMEOUT_MS,
		requireAllIndexes: typeof options.requireAllIndexes === 'boolean' ? options.requireAllIndexes : undefined,
		streamToChat: options.streamToChat !== false,
		appendSources: options.appendSources === 'always' || options.appendSources === 'never' ? options.appendSources : 'streaming',
	};
}
