import { FINAL_PREFIX, QUOTED_CHARS, startModelStandIn, type ModelStandIn } from './server';

const TOOLS = [
	{ type: 'function', function: { name: 'Calculator' } },
	{ type: 'function', function: { name: 'LlamaCloud_Chat' } },
];

/** The `data:` payloads of an SSE body, `[DONE]` kept as a string. */
function sseData(text: string): unknown[] {
	return text
		.split('\n\n')
		.filter((frame) => frame.startsWith('data: '))
		.map((frame) => frame.slice(6))
		.map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
}

describe('model stand-in', () => {
	let stand: ModelStandIn;
	beforeEach(async () => {
		stand = await startModelStandIn({ apiKey: 'sk-test', question: 'What grew?' });
	});
	afterEach(async () => await stand.close());

	const post = async (body: object, key = 'sk-test') =>
		await fetch(`${stand.url}/chat/completions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
			body: JSON.stringify(body),
		});

	it('first streams a call of the LlamaCloud tool with the question, then [DONE]', async () => {
		const res = await post({ model: 'm', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }], tools: TOOLS });
		expect(res.headers.get('content-type')).toBe('text/event-stream');
		const events = sseData(await res.text()) as Array<{ object: string; choices: Array<{ delta: { tool_calls?: Array<{ function: { name?: string; arguments: string } }> }; finish_reason: string | null }>; usage?: object }>;
		expect(events.pop()).toBe('[DONE]');
		expect(events.every((e) => e.object === 'chat.completion.chunk')).toBe(true);
		const calls = events.flatMap((e) => e.choices.flatMap((c) => c.delta.tool_calls ?? []));
		expect(calls[0].function.name).toBe('LlamaCloud_Chat');
		expect(JSON.parse(calls.map((c) => c.function.arguments).join(''))).toEqual({ prompt: 'What grew?' });
		expect(events.flatMap((e) => e.choices.map((c) => c.finish_reason)).filter(Boolean)).toEqual(['tool_calls']);
		expect(events[events.length - 1].usage).toBeDefined();
		expect(stand.requests[0]).toMatchObject({ path: '/v1/chat/completions', authorized: true, reply: { kind: 'tool_call' } });
		expect(stand.requests[0].headers.authorization).toBeUndefined();
	});

	it('then answers from the tool result: the prefix and the first characters of `answer`', async () => {
		const answer = 'Revenue grew 12% quarter over quarter to 4.2M, driven by enterprise renewals.';
		const res = await post({
			model: 'm',
			messages: [
				{ role: 'user', content: 'hi' },
				{ role: 'tool', tool_call_id: 'call_1', content: JSON.stringify([{ answer, sources: '- a.pdf' }]) },
			],
			tools: TOOLS,
		});
		const body = (await res.json()) as { object: string; choices: Array<{ message: { content: string }; finish_reason: string }> };
		expect(body.object).toBe('chat.completion');
		expect(body.choices[0]).toMatchObject({ message: { content: FINAL_PREFIX + answer.slice(0, QUOTED_CHARS) }, finish_reason: 'stop' });
	});

	it('streams a final answer in several content deltas', async () => {
		const res = await post({ model: 'm', stream: true, messages: [{ role: 'tool', tool_call_id: 'c', content: '[{"answer":"Short answer here."}]' }] });
		const events = sseData(await res.text()) as Array<{ choices: Array<{ delta: { content?: string } }> } | string>;
		const parts = events.flatMap((e) => (typeof e === 'string' ? [] : e.choices.map((c) => c.delta.content ?? ''))).filter(Boolean);
		expect(parts.length).toBeGreaterThan(1);
		expect(parts.join('')).toBe(`${FINAL_PREFIX}Short answer here.`);
	});

	it('lists its model, and turns away a wrong key and the Responses API', async () => {
		const models = await fetch(`${stand.url}/models`, { headers: { authorization: 'Bearer sk-test' } });
		expect(((await models.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual([stand.model]);
		expect((await post({ messages: [] }, 'sk-wrong')).status).toBe(401);
		const responses = await fetch(`${stand.url}/responses`, { method: 'POST', headers: { authorization: 'Bearer sk-test' }, body: '{}' });
		expect(responses.status).toBe(404);
	});
});
