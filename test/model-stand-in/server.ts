/**
 * A local stand-in for an OpenAI-compatible model API, for the AI Agent e2e (scripts/e2e/agent-tests.js).
 * It speaks what n8n's OpenAI Chat Model (lmChatOpenAi, Responses API off) sends through @langchain/openai:
 * `POST /v1/chat/completions` (streamed as SSE `chat.completion.chunk` events ending in `data: [DONE]`, or as
 * one `chat.completion`), with tool calls, and `GET /v1/models` (the editor's model list).
 *
 * It does not think; it follows a script (README.md):
 * - no `tool` message in the request yet: call the LlamaCloud tool (its name taken from the request's `tools`)
 *   with the arguments `{"prompt": <question>}`;
 * - a `tool` message present: answer "Per the documents: " + the first 60 characters of the tool's `answer`.
 * Every request is recorded (path, body, headers without `authorization`) for the e2e's checks.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const DEFAULT_MODEL = 'stand-in-chat-model';
export const DEFAULT_QUESTION = 'What grew in Q3, according to the quarterly reports?';
export const FINAL_PREFIX = 'Per the documents: ';
/** How much of the tool's answer the scripted final answer quotes. */
export const QUOTED_CHARS = 60;

export interface ChatMessage {
	role: string;
	content?: unknown;
	tool_calls?: unknown;
	tool_call_id?: string;
}

export interface ChatRequestBody {
	model?: string;
	messages?: ChatMessage[];
	tools?: Array<{ type?: string; function?: { name?: string; description?: string } }>;
	stream?: boolean;
	stream_options?: { include_usage?: boolean };
}

/** What the script answers: a call of one tool, or a text. */
export type ScriptedReply = { kind: 'tool_call'; name: string; arguments: string } | { kind: 'text'; text: string };

export interface RecordedModelRequest {
	method: string;
	path: string;
	/** Request headers, `authorization` left out (whether it was right is in `authorized`). */
	headers: Record<string, string | string[] | undefined>;
	authorized: boolean;
	rawBody: string;
	body: unknown;
	reply?: ScriptedReply;
	status: number;
}

export interface ModelStandInOptions {
	host?: string;
	port?: number;
	/** The key n8n's OpenAI credential must send as `Authorization: Bearer …`. */
	apiKey?: string;
	model?: string;
	/** The question the model asks the tool. */
	question?: string;
	/** Text deltas of the final answer are this many characters (so that it streams in several chunks). */
	deltaChars?: number;
}

export interface ModelStandIn {
	/** Base URL for n8n's OpenAI credential (`…/v1`). */
	url: string;
	apiKey: string;
	model: string;
	question: string;
	requests: RecordedModelRequest[];
	close(): Promise<void>;
}

/** The text content of a message: a string, or the text parts of a content array. */
export function messageText(content: unknown): string {
	if (typeof content === 'string') return content;
	if (Array.isArray(content)) {
		return content
			.map((part) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
			.join('');
	}
	return '';
}

/** The `answer` n8n's tool result carries: the content is the tool's output items as JSON (an array). */
export function toolAnswer(content: string): string | undefined {
	let parsed: unknown;
	try {
		parsed = JSON.parse(content);
	} catch {
		return undefined;
	}
	const first: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
	const answer = first && typeof first === 'object' ? (first as { answer?: unknown }).answer : undefined;
	return typeof answer === 'string' ? answer : undefined;
}

/** The script: ask the tool first, answer from its result once there is one. */
export function scriptedReply(body: ChatRequestBody, question: string): ScriptedReply {
	const messages = body.messages ?? [];
	const toolMessage = messages.find((m) => m.role === 'tool');
	if (toolMessage) {
		const content = messageText(toolMessage.content);
		const answer = toolAnswer(content);
		if (answer === undefined) return { kind: 'text', text: `The tool gave no answer: ${content.slice(0, QUOTED_CHARS)}` };
		return { kind: 'text', text: FINAL_PREFIX + answer.slice(0, QUOTED_CHARS) };
	}
	const names = (body.tools ?? []).map((t) => t.function?.name).filter((n): n is string => typeof n === 'string');
	// The workflow gives the agent one tool; should there be more, the LlamaCloud one.
	const name = names.find((n) => /llama/i.test(n)) ?? names[0];
	if (name === undefined) return { kind: 'text', text: 'No tool was offered to the model.' };
	return { kind: 'tool_call', name, arguments: JSON.stringify({ prompt: question }) };
}

function chunks(text: string, size: number): string[] {
	const out: string[] = [];
	for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
	return out.length ? out : [''];
}

function usage(body: ChatRequestBody, reply: ScriptedReply): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
	const prompt = Math.ceil(JSON.stringify(body.messages ?? []).length / 4);
	const completion = Math.ceil((reply.kind === 'text' ? reply.text : reply.arguments).length / 4);
	return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** The `chat.completion.chunk` payloads of a streamed reply, in order (without the final `[DONE]`). */
export function streamChunks(body: ChatRequestBody, reply: ScriptedReply, o: { id: string; model: string; created: number; deltaChars: number }): object[] {
	const base = { id: o.id, object: 'chat.completion.chunk', created: o.created, model: o.model, system_fingerprint: null };
	const choice = (delta: object, finish: string | null) => ({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
	const out: object[] = [];
	if (reply.kind === 'tool_call') {
		const callId = `call_${o.id.slice(-12)}`;
		out.push(choice({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: reply.name, arguments: '' } }] }, null));
		for (const part of chunks(reply.arguments, 16)) out.push(choice({ tool_calls: [{ index: 0, function: { arguments: part } }] }, null));
		out.push(choice({}, 'tool_calls'));
	} else {
		out.push(choice({ role: 'assistant', content: '' }, null));
		for (const part of chunks(reply.text, o.deltaChars)) out.push(choice({ content: part }, null));
		out.push(choice({}, 'stop'));
	}
	if (body.stream_options?.include_usage) out.push({ ...base, choices: [], usage: usage(body, reply) });
	return out;
}

/** A non-streamed `chat.completion` for the reply. */
export function completion(body: ChatRequestBody, reply: ScriptedReply, o: { id: string; model: string; created: number }): object {
	const message =
		reply.kind === 'tool_call'
			? { role: 'assistant', content: null, tool_calls: [{ id: `call_${o.id.slice(-12)}`, type: 'function', function: { name: reply.name, arguments: reply.arguments } }] }
			: { role: 'assistant', content: reply.text };
	return {
		id: o.id,
		object: 'chat.completion',
		created: o.created,
		model: o.model,
		choices: [{ index: 0, message, logprobs: null, finish_reason: reply.kind === 'tool_call' ? 'tool_calls' : 'stop' }],
		usage: usage(body, reply),
	};
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body);
	res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
	res.end(text);
}

/** OpenAI's error body. */
function sendError(res: ServerResponse, status: number, message: string, code: string): void {
	sendJson(res, status, { error: { message, type: 'invalid_request_error', param: null, code } });
}

async function readBody(req: IncomingMessage): Promise<string> {
	const parts: Buffer[] = [];
	for await (const part of req) parts.push(part as Buffer);
	return Buffer.concat(parts).toString('utf8');
}

export async function startModelStandIn(options: ModelStandInOptions = {}): Promise<ModelStandIn> {
	const apiKey = options.apiKey ?? `sk-stand-in-${randomUUID()}`;
	const model = options.model ?? DEFAULT_MODEL;
	const question = options.question ?? DEFAULT_QUESTION;
	const deltaChars = options.deltaChars ?? 8;
	const requests: RecordedModelRequest[] = [];

	const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
		const rawBody = await readBody(req);
		let body: unknown;
		try {
			body = rawBody ? JSON.parse(rawBody) : undefined;
		} catch {
			body = rawBody;
		}
		const { authorization, ...headers } = req.headers;
		const path = (req.url ?? '/').split('?')[0];
		const rec: RecordedModelRequest = { method: req.method ?? '', path, headers, authorized: authorization === `Bearer ${apiKey}`, rawBody, body, status: 0 };
		requests.push(rec);
		const fail = (status: number, message: string, code: string) => {
			rec.status = status;
			sendError(res, status, message, code);
		};
		if (!rec.authorized) return fail(401, 'Incorrect API key provided.', 'invalid_api_key');
		if (req.method === 'GET' && path === '/v1/models') {
			rec.status = 200;
			return sendJson(res, 200, { object: 'list', data: [{ id: model, object: 'model', created: 1_764_633_600, owned_by: 'model-stand-in' }] });
		}
		if (req.method !== 'POST' || path !== '/v1/chat/completions') return fail(404, `Unknown request ${req.method} ${path}: the stand-in speaks chat completions only (no Responses API).`, 'unknown_url');
		if (!body || typeof body !== 'object') return fail(400, 'The body is not JSON.', 'invalid_json');
		const chat = body as ChatRequestBody;
		if (!Array.isArray(chat.messages)) return fail(400, "'messages' is required.", 'missing_messages');
		const reply = scriptedReply(chat, question);
		rec.reply = reply;
		rec.status = 200;
		const meta = { id: `chatcmpl-${randomUUID().replace(/-/g, '')}`, model: chat.model ?? model, created: Math.floor(Date.now() / 1000), deltaChars };
		if (!chat.stream) return sendJson(res, 200, completion(chat, reply, meta));
		res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
		for (const payload of streamChunks(chat, reply, meta)) res.write(`data: ${JSON.stringify(payload)}\n\n`);
		res.end('data: [DONE]\n\n');
	};

	const server: Server = createServer((req, res) => {
		handle(req, res).catch((error: unknown) => {
			if (!res.headersSent) sendError(res, 500, error instanceof Error ? error.message : String(error), 'stand_in_error');
			else res.destroy();
		});
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
	});
	const address = server.address() as AddressInfo;
	return {
		url: `http://${address.address}:${address.port}/v1`,
		apiKey,
		model,
		question,
		requests,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
