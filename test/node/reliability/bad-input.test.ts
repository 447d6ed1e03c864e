// Reliability: bad input mapped from earlier nodes. About 200 seeded random cases of wrong types,
// huge strings, tricky unicode, empty and oversized lists, and malformed IDs, each passed as an
// item field mapped with an expression. Every one must be refused by the node itself, with an
// error naming the field, before any request reaches LlamaCloud.

import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import {
	TrackedRuns,
	byId,
	credentialsFor,
	expectErrorItem,
	pick,
	randomInt,
	retryWarnings,
	seedSessions,
	seededRandom,
	workflowError,
} from './support';

let sandbox: Sandbox;
const runs = new TrackedRuns();

useSandbox((started) => (sandbox = started));

afterEach(() => {
	runs.expectNoSecrets(sandbox.apiKey);
});


// ---- operations and fields ------------------------------------------------------------------------

type Operation = 'create' | 'getSummary' | 'delete' | 'send' | 'ask';
type Field = 'Indexes' | 'Session' | 'Project' | 'Organization' | 'Prompt';

const MAPPED = '={{ $json.value }}';

/** Valid parameters of each operation; a case replaces one of them by the mapped bad value. */
const BASE: Record<Operation, INodeParameters> = {
	create: { resource: 'session', operation: 'create', indexIds: ['idx-q3-reports'] },
	getSummary: { resource: 'session', operation: 'getSummary', sessionId: byId('ses-valid-1') },
	delete: { resource: 'session', operation: 'delete', sessionId: byId('ses-valid-1') },
	send: {
		resource: 'message',
		operation: 'send',
		sessionId: byId('ses-valid-1'),
		prompt: 'What grew in Q3?',
		indexIds: ['idx-q3-reports'],
	},
	ask: { resource: 'message', operation: 'ask', prompt: 'What grew in Q3?', indexIds: ['idx-q3-reports'] },
};

const MAPPING: Record<Field, INodeParameters> = {
	Indexes: { indexIds: MAPPED },
	Session: { sessionId: byId(MAPPED) },
	Project: { project: byId(MAPPED) },
	Organization: { organization: byId(MAPPED) },
	Prompt: { prompt: MAPPED },
};

function parametersFor(operation: Operation, field: Field): INodeParameters {
	return { ...BASE[operation], ...MAPPING[field] };
}

// ---- seeded generators ----------------------------------------------------------------------------

const EMOJI = ['😀', '🦙', '👩‍💻', '🇪🇺', '🔥', '🧪'];
const RTL = ['مرحبا', 'שלום', 'سلام عليكم', '\u202eevil\u202c'];
const ZERO_WIDTH = ['\u200b', '\u200c', '\u200d', '\ufeff', '\u2060'];
const WHITESPACE = [' ', '\t', '\n', '\r\n', '\u00a0', '\u2003', '\u3000'];
const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

type Random = () => number;

function word(random: Random, min = 3, max = 12): string {
	let text = '';
	for (let n = randomInt(random, min, max); n > 0; n--) text += ASCII[randomInt(random, 0, ASCII.length - 1)];
	return text;
}

function huge(random: Random): string {
	return word(random, 8, 8).repeat(100_000 / 8);
}

function whitespace(random: Random): string {
	let text = '';
	for (let n = randomInt(random, 1, 12); n > 0; n--) text += pick(random, WHITESPACE);
	return text;
}

function randomObject(random: Random): IDataObject {
	return { [word(random)]: pick(random, [word(random), randomInt(random, 0, 999), true, null]) };
}

/** An ID-looking string broken by one character an ID may not contain, strictly inside (not trimmable). */
function brokenId(random: Random, prefix: string, breaker: string): string {
	const id = `${prefix}${word(random, 4, 10)}`;
	const at = randomInt(random, 1, id.length - 1);
	return id.slice(0, at) + breaker + id.slice(at);
}

const uuid = (random: Random): string =>
	[8, 4, 4, 4, 12].map((length) => [...Array(length)].map(() => '0123456789abcdef'[randomInt(random, 0, 15)]).join('')).join('-');

interface Kind {
	label: string;
	value(random: Random): unknown;
	/** Operations where this value is bad (e.g. an empty index list is fine for Create: unbound). */
	operations?: Operation[];
}

const WRONG_TYPES: Kind[] = [
	{ label: 'a number', value: (random) => randomInt(random, 1, 1_000_000) * pick(random, [1, -1]) },
	{ label: 'a boolean', value: (random) => random() < 0.5 },
	{ label: 'an object', value: randomObject },
	{ label: 'an array of objects', value: (random) => [randomObject(random), randomObject(random)] },
];

const KINDS: Record<Field, Kind[]> = {
	Indexes: [
		...WRONG_TYPES,
		{ label: 'an array mixing IDs and numbers', value: (random) => ['idx-q3-reports', randomInt(random, 0, 99)] },
		{ label: 'an array with null inside', value: () => ['idx-q3-reports', null] },
		{ label: 'a 100 kB string', value: huge },
		{ label: 'an ID with an emoji', value: (random) => brokenId(random, 'idx-', pick(random, EMOJI)) },
		{ label: 'an ID in right-to-left script', value: (random) => `idx-${pick(random, RTL)}` },
		{ label: 'an ID with a zero-width character', value: (random) => brokenId(random, 'idx-', pick(random, ZERO_WIDTH)) },
		{ label: 'an ID with a space', value: (random) => [brokenId(random, 'idx-', ' ')] },
		{ label: 'an ID with a slash', value: (random) => brokenId(random, 'idx-', pick(random, ['/', '/../', '\\'])) },
		{
			label: 'more than 10 distinct indexes (array)',
			value: (random) => [...Array(randomInt(random, 11, 25))].map((_, n) => `idx-${n}-${word(random, 3, 6)}`),
		},
		{
			label: 'more than 10 distinct indexes (comma-separated)',
			value: (random) => [...Array(randomInt(random, 11, 25))].map((_, n) => `idx-${n}-${word(random, 3, 6)}`).join(', '),
		},
		{ label: 'an empty list', value: () => [], operations: ['ask'] },
		{ label: 'null', value: () => null, operations: ['ask'] },
		{ label: 'only separators', value: (random) => pick(random, ['', ' , ,', '\n\n', ',']), operations: ['ask'] },
	],
	Session: [
		{ label: 'a boolean', value: (random) => random() < 0.5 },
		{ label: 'an object', value: randomObject },
		{ label: 'an array of objects', value: (random) => [randomObject(random)] },
		{ label: 'an array of IDs', value: (random) => [`ses-${word(random)}`] },
		{ label: 'null', value: () => null },
		{ label: 'an empty string', value: () => '' },
		{ label: 'whitespace only', value: whitespace },
		{ label: 'a 100 kB string', value: huge },
		{ label: 'an ID with a space', value: (random) => brokenId(random, 'ses-', ' ') },
		{ label: 'an ID with a slash', value: (random) => brokenId(random, 'ses-', pick(random, ['/', '/../', '%2F'])) },
		{ label: 'a path traversal', value: (random) => `../${word(random)}` },
		{ label: 'an ID with an emoji', value: (random) => brokenId(random, 'ses-', pick(random, EMOJI)) },
		{ label: 'an ID in right-to-left script', value: (random) => `ses-${pick(random, RTL)}` },
		{ label: 'an ID with a zero-width character', value: (random) => brokenId(random, 'ses-', pick(random, ZERO_WIDTH)) },
		{ label: 'an ID with a line break inside', value: (random) => brokenId(random, 'ses-', pick(random, ['\n', '\r', '\t'])) },
		{ label: 'an ID of 129 characters', value: () => 's'.repeat(129) },
	],
	Project: [
		...WRONG_TYPES,
		{ label: 'a name instead of a UUID', value: word },
		{ label: 'a UUID missing a character', value: (random) => uuid(random).slice(1) },
		{ label: 'a UUID with a zero-width character', value: (random) => brokenId(random, uuid(random), pick(random, ZERO_WIDTH)) },
		{ label: 'a UUID with an emoji', value: (random) => `${uuid(random)}${pick(random, EMOJI)}` },
		{ label: 'a 100 kB string', value: huge },
		{ label: 'right-to-left text', value: (random) => pick(random, RTL) },
	],
	Organization: [
		...WRONG_TYPES,
		{ label: 'a name instead of a UUID', value: word },
		{ label: 'a UUID with a zero-width character', value: (random) => brokenId(random, uuid(random), pick(random, ZERO_WIDTH)) },
		{ label: 'two UUIDs', value: (random) => [uuid(random), uuid(random)] },
		{ label: 'a 100 kB string', value: huge },
	],
	Prompt: [
		// A number is a valid question ("42"), so only the other wrong types.
		...WRONG_TYPES.filter((kind) => kind.label !== 'a number'),
		{ label: 'null', value: () => null },
		{ label: 'an empty string', value: () => '' },
		{ label: 'whitespace only', value: whitespace },
		{ label: '1001 characters', value: (random) => (word(random, 30, 30) + ' ').repeat(40).slice(0, 1001) },
		{ label: 'a 100 kB string', value: huge },
		{
			label: '1001 characters of emoji, RTL and zero-width text',
			value: (random) => {
				const pieces: string[] = [];
				while (pieces.length < 1001) pieces.push(...[...pick(random, [...EMOJI, ...RTL, ...ZERO_WIDTH, 'a'])]);
				return pieces.slice(0, 1001).join('');
			},
		},
	],
};

const OPERATIONS: Record<Field, Operation[]> = {
	Indexes: ['create', 'send', 'ask'],
	Session: ['getSummary', 'delete', 'send'],
	Project: ['create', 'getSummary', 'delete', 'send', 'ask'],
	Organization: ['create', 'getSummary', 'send', 'ask'],
	Prompt: ['send', 'ask'],
};

/** How many random cases each kind of bad value gets. */
const PER_KIND: Record<Field, number> = { Indexes: 4, Session: 3, Project: 3, Organization: 3, Prompt: 5 };

interface BadCase {
	id: number;
	field: Field;
	operation: Operation;
	label: string;
	value: unknown;
}

function generateCases(seed: number): BadCase[] {
	const random = seededRandom(seed);
	const cases: BadCase[] = [];
	for (const field of Object.keys(KINDS) as Field[]) {
		for (const kind of KINDS[field]) {
			for (let n = 0; n < PER_KIND[field]; n++) {
				const operation = pick(random, kind.operations ?? OPERATIONS[field]);
				cases.push({ id: cases.length, field, operation, label: kind.label, value: kind.value(random) });
			}
		}
	}
	return cases;
}

const CASES = generateCases(0xbad_1fe);

/** Each message starts with the name of the field, as the node's validation words it. */
const FIELD_MESSAGE: Record<Field, RegExp> = {
	Indexes: /^Indexes: /,
	Session: /^Session /,
	Project: /^Project must be a UUID/,
	Organization: /^Organization must be a UUID/,
	Prompt: /^Prompt (is required|must be text|is \d+ characters long)/,
};

async function runCases(cases: BadCase[], continueOnFail: boolean) {
	const [{ operation, field }] = cases;
	return await runs.run({
		credentials: credentialsFor(sandbox),
		items: cases.map((c) => ({ value: c.value }) as IDataObject),
		nodes: [{ name: 'LlamaCloud', parameters: parametersFor(operation, field), continueOnFail }],
	});
}

describe('Bad input mapped from earlier nodes', () => {
	it('has about 200 seeded cases covering every field and every operation it applies to', () => {
		expect(CASES.length).toBeGreaterThanOrEqual(190);
		expect(CASES.length).toBeLessThanOrEqual(220);
		for (const field of Object.keys(OPERATIONS) as Field[]) {
			const operations = new Set(CASES.filter((c) => c.field === field).map((c) => c.operation));
			expect([...operations].sort()).toEqual([...OPERATIONS[field]].sort());
		}
		// The same seed gives the same cases.
		expect(JSON.stringify(generateCases(0xbad_1fe))).toBe(JSON.stringify(CASES));
	});

	describe('without Continue On Fail: a NodeOperationError naming the field, and no request at all', () => {
		it.each(CASES.map((c) => [c.id, c.field, c.label, c.operation, c] as const))(
			'#%i %s ← %s (%s)',
			async (_id, _field, _label, _operation, c) => {
				const result = await runCases([c], false);

				const error = workflowError(result);
				expect(error.name).toBe('NodeOperationError');
				expect(error.message).toMatch(FIELD_MESSAGE[c.field]);
				expect(error.message.length).toBeLessThan(200);
				expect(typeof error.description).toBe('string');
				expect(error.context?.itemIndex).toBe(0);
				expect(sandbox.requests).toHaveLength(0);
				expect(retryWarnings()).toHaveLength(0);
			},
		);
	});

	describe('with Continue On Fail: one error item per input item, paired with it, and no request at all', () => {
		const groups = new Map<string, BadCase[]>();
		for (const c of CASES) {
			const key = `${c.field} via ${c.operation}`;
			groups.set(key, [...(groups.get(key) ?? []), c]);
		}

		it.each([...groups.entries()])('%s', async (_key, cases) => {
			const result = await runCases(cases, true);

			expect(result.error).toBeUndefined();
			const output = result.output('LlamaCloud');
			expect(output).toHaveLength(cases.length);
			output.forEach((item, index) => {
				const json = expectErrorItem(item, index);
				expect(json.error).toMatch(FIELD_MESSAGE[cases[index].field]);
				expect(json.httpCode).toBeUndefined();
			});
			expect(sandbox.requests).toHaveLength(0);
		});
	});
});

describe('Valid unicode input goes through', () => {
	const random = seededRandom(0x00c0de);
	const prompts: Array<[string, string]> = [
		['emoji', `What grew in Q3? ${EMOJI.join(' ')}`],
		['right-to-left text', `${RTL.slice(0, 3).join(' ')} — what grew in Q3?`],
		['zero-width characters inside words', `What${ZERO_WIDTH[0]} grew${ZERO_WIDTH[2]} in Q3?`],
		['combining accents and CJK', 'Que s\u0065\u0301passe-t-il ? 第三季度增长了什么？'],
		['exactly 1000 ASCII characters', 'a'.repeat(999) + '?'],
		[
			'a random mix of 1000 UTF-16 units',
			(() => {
				let text = '';
				while (text.length < 990) text += pick(random, [...EMOJI, ...RTL, ...ZERO_WIDTH, word(random), ' ']);
				return text.slice(0, 990).replace(/[\ud800-\udbff]$/, '') + ' Q3?';
			})(),
		],
	];

	/** Send in a seeded session, with the session ID and the prompt mapped from the item. */
	const sendMapped = async (sessionId: string, prompt: string) =>
		await runs.run({
			credentials: credentialsFor(sandbox),
			items: [{ session_id: sessionId, value: prompt }],
			nodes: [
				{
					name: 'Send',
					parameters: { ...parametersFor('send', 'Prompt'), sessionId: byId('={{ $json.session_id }}') },
				},
			],
		});

	it.each(prompts)('sends a prompt with %s unchanged and returns the answer', async (_label, prompt) => {
		expect(prompt.length).toBeLessThanOrEqual(1000);
		const [sessionId] = await seedSessions(sandbox, 1);

		const result = await sendMapped(sessionId, prompt);

		expect(result.error).toBeUndefined();
		expect(result.output('Send')[0].json.answer).toEqual(expect.stringMatching(/\S/));
		const streams = sandbox.requests.filter((request) => request.path.endsWith('/messages/stream'));
		expect(streams).toHaveLength(1);
		expect((streams[0].body as IDataObject).prompt).toBe(prompt);
	});

	it('trims the spaces around a mapped session ID and sends a unicode prompt as it is', async () => {
		const [sessionId] = await seedSessions(sandbox, 1);

		const result = await sendMapped(` ${sessionId} `, '¿Qué creció en el T3? 🦙');

		// Surrounding spaces of a mapped ID are trimmed, not rejected.
		expect(result.error).toBeUndefined();
		expect(result.output('Send')[0].json.session_id).toBe(sessionId);
	});

	// LlamaCloud counts characters (code points), not UTF-16 units: 1000 emoji are 2000 units.
	it('accepts a prompt of exactly 1000 characters even when they are emoji', async () => {
		const prompt = '🦙'.repeat(1000);
		expect([...prompt]).toHaveLength(1000);
		const [sessionId] = await seedSessions(sandbox, 1);

		const result = await sendMapped(sessionId, prompt);

		expect(result.error).toBeUndefined();
		expect(sandbox.requests.filter((request) => request.path.endsWith('/messages/stream'))).toHaveLength(1);
	});
});
