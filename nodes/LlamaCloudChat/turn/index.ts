import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { runsAsTool } from '../helpers/runsAsTool';
import { AnswerStreamer } from './relayToChat';
import { runChatTurn, type ChatTurnRequest, type MessageOptions } from './sendTurn';
import { sourcesMarkdown } from './sources';

/**
 * A chat turn, from the POST to the node's output: `sendMessage` is the one way in. The stream is
 * parsed (parseStream), its events collected into the answer (collectAnswer), the text relayed to
 * n8n's chat as it arrives (relayToChat), and the output shaped for a tool call (toolOutput).
 */
export type { ChatTurnRequest, MessageOptions } from './sendTurn';
export { CUT_OFF_NOTICE, chatItemDone, orderChatByItem } from './relayToChat';
export { toolResult } from './toolOutput';

/**
 * Sends the message and returns the node's output for it: the essentials by default, everything on
 * request. The answer also goes to `output` (n8n's field for AI nodes, what the Chat Trigger shows),
 * with the sources appended when asked; when n8n streams the response, the same text streams as it
 * is written, and a turn that fails half-way ends its stream with a notice before the item fails.
 */
export async function sendMessage(
	context: IExecuteFunctions,
	request: ChatTurnRequest,
	options: MessageOptions,
): Promise<IDataObject> {
	// A tool call's answer is for the AI Agent, not for the user: n8n also streams the agent's
	// execution, but only the agent decides what reaches the chat.
	const asTool = runsAsTool(context);
	const streamer = new AnswerStreamer(context, request.itemIndex, options.streamToChat && !asTool);
	// A failed turn ends what it streamed with a notice that the answer was cut off (n8n shows no
	// error in the chat when the node continues on fail); the item then fails as without streaming.
	const result = await runChatTurn(context, request, options, streamer).catch(async (error: Error) => {
		await streamer.cutOff();
		throw error;
	});
	// The model always gets the sources (as a short list instead of the raw citations), unless told never.
	const withSources =
		options.appendSources === 'always' || (options.appendSources === 'streaming' && (streamer.active || asTool));
	const sources = withSources ? sourcesMarkdown(result.citations) : '';
	const suffix = sources ? `\n\n${sources}` : '';
	await streamer.finish(result.answer, suffix);
	const output: IDataObject = {
		session_id: request.sessionId,
		output: result.answer + suffix,
		answer: result.answer,
		citations: result.citations,
		usage: result.usage,
		is_error: result.is_error,
	};
	if (withSources) output.sources_markdown = sources;
	// Newer API revisions list the indexes a turn could not query; the answer came from the others.
	if (result.skippedIndexIds !== undefined && result.skippedIndexIds.length > 0) {
		output.skipped_index_ids = result.skippedIndexIds;
		context.logger.warn('LlamaCloud answered without some indexes it could not query', {
			node: context.getNode().name,
			sessionId: request.sessionId,
			skippedIndexIds: result.skippedIndexIds,
		});
	}
	if (!options.simplify) {
		output.prompt = request.prompt;
		output.index_ids = request.indexIds;
		output.thinking = result.thinking;
		output.error = result.error;
		output.stop = result.stop;
	}
	if (options.includeEvents) output.events = result.events;
	return output;
}
