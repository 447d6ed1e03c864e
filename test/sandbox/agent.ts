// A deterministic fake "agent": keyword retrieval over the seeded corpus and a
// templated answer, so default streams cite real fixture passages.

import type { ChatEvent, IndexRecord } from './store';

export interface SearchHit {
	text: string;
	index_id: string;
	file_name: string;
	page: number;
}

export interface TurnPlan {
	events: ChatEvent[];
	hits: SearchHit[];
	answer: string;
}

const STOP_WORDS = new Set(
	'the a an and or of in on for to is are was were what which who how does do did with about from our your their this that these those there any can you me tell please main'.split(
		' ',
	),
);

function words(s: string): string[] {
	return s
		.toLowerCase()
		.split(/[^\p{L}\p{N}%#]+/u)
		.filter((w) => w.length >= 2 && !STOP_WORDS.has(w));
}

export function search(prompt: string, indexes: IndexRecord[], limit = 3): SearchHit[] {
	const q = new Set(words(prompt));
	const scored: Array<{ hit: SearchHit; score: number; order: number }> = [];
	let order = 0;
	for (const idx of indexes) {
		for (const p of idx.corpus) {
			const hay = words(`${idx.name} ${p.text}`);
			const score = hay.filter((w) => q.has(w)).length;
			scored.push({
				hit: { text: p.text, index_id: idx.id, file_name: p.file_name, page: p.page },
				score,
				order: order++,
			});
		}
	}
	scored.sort((a, b) => b.score - a.score || a.order - b.order);
	return scored.slice(0, limit).map((s) => s.hit);
}

export function composeAnswer(prompt: string, hits: SearchHit[], indexNames: string[]): string {
	if (indexNames.length === 0) {
		return `No indexes were selected for this turn, so I cannot cite any documents. You asked: "${prompt.trim()}"`;
	}
	const top = hits.slice(0, 2);
	if (top.length === 0)
		return `I searched ${indexNames.join(', ')} but found no passages relevant to your question.`;
	const parts = top.map((h) => `${h.text} [${h.file_name}, p. ${h.page}]`);
	return `Based on ${indexNames.join(', ')}: ${parts.join(' ')}`;
}

/** Splits text into word groups so the answer arrives as several text_delta events. */
export function splitDeltas(text: string, wordsPerDelta = 3): string[] {
	const tokens = text.match(/\S+\s*|\s+/g) ?? [];
	const out: string[] = [];
	for (let i = 0; i < tokens.length; i += wordsPerDelta)
		out.push(tokens.slice(i, i + wordsPerDelta).join(''));
	return out.length ? out : [text];
}

export function estimateTokens(chars: number): number {
	return Math.max(1, Math.ceil(chars / 4));
}

let callCounter = 0;

/** Where a turn stands in its session, for answers that show the session's context. */
export interface TurnContext {
	/** 1 for the session's first message. */
	turn: number;
	/** The session's previous question, if any. */
	previousPrompt?: string;
}

/**
 * An answer that shows what the session remembers: it names its turn and, from turn 2 on, the
 * previous question, so a test can tell a continued session from a new one by the text alone.
 */
export function contextPreamble(context: TurnContext): string {
	if (context.turn <= 1 || context.previousPrompt === undefined) return `Turn ${context.turn}, no earlier question. `;
	return `Turn ${context.turn}, following up on "${context.previousPrompt.trim().slice(0, 200)}". `;
}

export interface PlanOptions {
	prompt: string;
	indexes: IndexRecord[];
	/** When set, the answer starts with the turn number and the previous question (contextPreamble). */
	context?: TurnContext;
	answer?: string;
	/** Target size of the whole SSE body; padding text_delta events are appended to reach it. */
	answerBytes?: number;
	/** Byte size of an encoded frame, used to size the padding. */
	frameBytes: (ev: ChatEvent) => number;
}

export function planTurn(o: PlanOptions): TurnPlan {
	const names = o.indexes.map((i) => i.name);
	const hits = o.indexes.length ? search(o.prompt, o.indexes) : [];
	const query = o.prompt.trim().slice(0, 200);
	const events: ChatEvent[] = [];
	events.push({
		type: 'thinking_delta',
		content: names.length
			? `Searching ${names.join(', ')} for "${query}".`
			: 'No indexes selected for this turn; answering without retrieval.',
	});
	if (o.indexes.length) {
		const callId = `call_${++callCounter}`;
		events.push({ type: 'tool_call', call_id: callId, name: 'search', arguments: { query } });
		events.push({
			type: 'tool_result',
			call_id: callId,
			name: 'search',
			result: hits,
			image_attachment: null,
		});
	}
	let answer = o.answer ?? composeAnswer(o.prompt, hits, names);
	if (o.context) answer = contextPreamble(o.context) + answer;
	const deltas = splitDeltas(answer);

	if (o.answerBytes && o.answerBytes > 0) {
		// Each padding delta costs its frame plus the same text again inside the final `text` event.
		let total =
			events.reduce((n, e) => n + o.frameBytes(e), 0) +
			deltas.reduce((n, d) => n + o.frameBytes({ type: 'text_delta', content: d }), 0) +
			o.frameBytes({ type: 'text', content: answer }) +
			300; // the stop frame
		const filler =
			(hits.length
				? hits.map((h) => h.text).join(' ')
				: 'Sandbox padding text for large-stream tests.') + ' ';
		let unit = filler;
		while (unit.length < 1024) unit += filler;
		const overhead = o.frameBytes({ type: 'text_delta', content: '' });
		const padding: string[] = [];
		while (total < o.answerBytes) {
			const room = Math.floor((o.answerBytes - total - overhead) / 2);
			const piece = room >= unit.length ? unit : unit.slice(0, Math.max(1, room));
			padding.push(piece);
			total += overhead + 2 * Buffer.byteLength(piece);
		}
		deltas.push(...padding);
		answer += padding.join('');
	}

	for (const d of deltas) events.push({ type: 'text_delta', content: d });
	events.push({ type: 'text', content: answer });
	const inputChars = o.prompt.length + hits.reduce((n, h) => n + h.text.length, 0) + 1200;
	events.push({
		type: 'stop',
		error: null,
		is_error: false,
		usage: {
			duration_ms: 0, // filled in when the stop frame is written
			total_input_tokens: estimateTokens(inputChars),
			total_output_tokens: estimateTokens(answer.length),
			// Agent-loop iterations: one to call the search tool, one to answer.
			turns: o.indexes.length ? 2 : 1,
		},
	});
	return { events, hits, answer };
}
