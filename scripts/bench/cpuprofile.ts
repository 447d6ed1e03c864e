/* eslint-disable @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by owner (our node, n8n-core,
 * n8n-workflow, axios, Node internals, ...), the top self-time functions, and inclusive time of the
 * n8n/engine entry points the node goes through. Written from the documented JSON shape:
 * `nodes[{ id, callFrame, children }]`, `samples[]` (node ids), `timeDeltas[]` (µs).
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
	functionName: string;
	url: string;
	lineNumber: number;
	columnNumber: number;
}

interface ProfileNode {
	id: number;
	callFrame: CallFrame;
	children?: number[];
}

interface CpuProfile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
	startTime: number;
	endTime: number;
}

export type Owner =
	| 'ours (nodes/LlamaCloudChat)'
	| 'ours (credentials)'
	| 'test harness'
	| 'bench script'
	| 'n8n-core'
	| 'n8n-workflow'
	| 'axios'
	| 'follow-redirects'
	| 'node internals'
	| 'GC'
	| 'idle/program'
	| string;

export function ownerOf(frame: CallFrame): Owner {
	const url = frame.url;
	if (!url) {
		if (frame.functionName === '(garbage collector)') return 'GC';
		if (frame.functionName === '(idle)' || frame.functionName === '(program)' || frame.functionName === '(root)')
			return 'idle/program';
		return 'node internals';
	}
	if (/\/nodes\/LlamaCloudChat\//.test(url)) return 'ours (nodes/LlamaCloudChat)';
	if (/\/dist(-test)?\/credentials\//.test(url)) return 'ours (credentials)';
	if (/\/dist-test\/test\//.test(url)) return 'test harness';
	if (/\/dist-test\/scripts\//.test(url)) return 'bench script';
	const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(url);
	if (match) return match[1];
	if (url.startsWith('node:') || !url.includes('/')) return 'node internals';
	return 'other';
}

export interface FunctionCost {
	name: string;
	location: string;
	owner: Owner;
	selfMs: number;
	selfPct: number;
}

export interface ProfileSummary {
	totalMs: number;
	/** Sampled time excluding idle and "(program)". */
	busyMs: number;
	byOwner: Array<{ owner: Owner; selfMs: number; pctOfBusy: number }>;
	top: FunctionCost[];
	/** Inclusive (self + callees, synchronous part only) time of selected functions. */
	inclusive: Array<{ name: string; ms: number; pctOfBusy: number }>;
	/** Busy samples whose synchronous stack contains a frame of our node. */
	underOurFramesMs: number;
	/** Every busy sample in exactly one bucket (see BUCKETS). */
	attribution: Array<{ label: string; ms: number; pctOfBusy: number }>;
}

/**
 * n8n entry points a sample is charged to when they are on its stack (the outermost one wins), so
 * that e.g. expression evaluation inside getNodeParameter counts as getNodeParameter.
 */
const MARKERS: Array<{ fn: string; owners: Owner[]; label: string }> = [
	{
		fn: 'authenticate',
		owners: ['test harness', 'n8n-core'],
		label: "n8n: credential authenticate (the credential's `=Bearer {{$credentials.apiKey}}` expression)",
	},
	{ fn: '_getCredentials', owners: ['n8n-core'], label: 'n8n: getCredentials' },
	{ fn: '_getNodeParameter', owners: ['n8n-core'], label: 'n8n: getNodeParameter (expression resolution, validation)' },
	{
		fn: 'convertN8nRequestToAxios',
		owners: ['n8n-core'],
		label: 'n8n: IHttpRequestOptions → axios config (incl. a new http.Agent and proxy-from-env per request)',
	},
];

const HTTP_OWNERS = new Set<Owner>(['axios', 'follow-redirects', 'node internals', 'proxy-from-env', 'form-data', 'debug']);

function bucketOfLeaf(owner: Owner): string {
	if (owner === 'ours (nodes/LlamaCloudChat)' || owner === 'ours (credentials)') return 'ours: node code, self time';
	if (HTTP_OWNERS.has(owner)) return 'HTTP: axios + follow-redirects + Node http/net (the baseline does this too)';
	if (owner === 'n8n-core' || owner === 'n8n-workflow' || owner.startsWith('@n8n/')) return 'n8n: engine, other (WorkflowExecute, helpers, run data)';
	if (owner === 'GC') return 'GC';
	if (owner === 'test harness' || owner === 'bench script') return 'harness / bench script';
	return 'other libraries';
}

function shortUrl(url: string): string {
	const nm = url.lastIndexOf('node_modules/');
	if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
	const dt = url.indexOf('/dist-test/');
	if (dt >= 0) return url.slice(dt + 1);
	const d = url.indexOf('/dist/');
	if (d >= 0) return url.slice(d + 1);
	return url.replace(/^file:\/\//, '');
}

function keyOf(frame: CallFrame): string {
	return `${frame.functionName || '(anonymous)'}|${frame.url}|${frame.lineNumber}`;
}

/** Function names whose inclusive time is reported when present (matched on the bare name). */
export const ENTRY_POINTS = [
	'_getNodeParameter',
	'getAdditionalKeys',
	'extractValue',
	'cleanupParameterData',
	'initializeGlobalContext',
	'getDataProxy',
	'displayParameter',
	'getDecrypted',
	'resolveCredentialExpression',
	'getParameterValue',
	'validateValueAgainstSchema',
	'getCredentials',
	'_getCredentials',
	'httpRequestWithAuthentication',
	'authenticate',
	'httpRequest',
	'convertN8nRequestToAxios',
	'setAxiosAgents',
	'invokeAxios',
	'wrap',
	'request',
	'dispatchHttpRequest',
	'runNode',
	'processRunExecutionData',
	'router',
	'execute',
	'llamaCloudRequest',
	'getBaseUrl',
	'requestSettings',
	'scopeQuery',
	'parseIndexIds',
];

/**
 * `windows` (µs, the clock of `process.hrtime`, which is also the profile's clock) keeps only the
 * samples taken while the measured workload ran, leaving out start-up and module loading.
 */
export interface TimeWindow {
	startUs: number;
	endUs: number;
}

export function summariseProfile(path: string, topN = 25, windows?: TimeWindow[]): ProfileSummary {
	const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
	const byId = new Map<number, ProfileNode>();
	const parent = new Map<number, number>();
	for (const node of profile.nodes) byId.set(node.id, node);
	for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

	// Time of sample i is the gap to the next sample (the last one gets the mean gap).
	const n = profile.samples.length;
	const meanGap = n > 1 ? (profile.endTime - profile.startTime) / n : 0;
	const sampleUs = (i: number) => (i + 1 < n ? profile.timeDeltas[i + 1] : meanGap);

	const self = new Map<string, { frame: CallFrame; us: number }>();
	const ownerUs = new Map<Owner, number>();
	const inclusiveUs = new Map<string, number>();
	let totalUs = 0;
	let idleUs = 0;
	let oursUs = 0;
	const entrySet = new Set(ENTRY_POINTS);
	const bucketUs = new Map<string, number>();

	let clock = profile.startTime;
	for (let i = 0; i < n; i++) {
		clock += profile.timeDeltas[i] ?? 0;
		if (windows && !windows.some((w) => clock >= w.startUs && clock <= w.endUs)) continue;
		const us = Math.max(0, sampleUs(i));
		const leaf = byId.get(profile.samples[i]);
		if (!leaf) continue;
		totalUs += us;
		const owner = ownerOf(leaf.callFrame);
		if (owner === 'idle/program') {
			idleUs += us;
			continue;
		}
		const key = keyOf(leaf.callFrame);
		const entry = self.get(key) ?? { frame: leaf.callFrame, us: 0 };
		entry.us += us;
		self.set(key, entry);
		ownerUs.set(owner, (ownerUs.get(owner) ?? 0) + us);

		// Walk the synchronous stack once: inclusive time for entry points, "under our code" flag.
		const seen = new Set<string>();
		let underOurs = false;
		let bucket: string | undefined;
		let cursor: number | undefined = leaf.id;
		for (let depth = 0; cursor !== undefined && depth < 2000; depth++) {
			const node = byId.get(cursor);
			if (!node) break;
			const frame = node.callFrame;
			const marker = MARKERS.find((m) => m.fn === frame.functionName && m.owners.includes(ownerOf(frame)));
			if (marker) bucket = marker.label; // keeps overwriting while walking up: the outermost wins
			if (ownerOf(frame) === 'ours (nodes/LlamaCloudChat)') underOurs = true;
			if (entrySet.has(frame.functionName)) {
				const label = `${frame.functionName} (${ownerOf(frame)})`;
				if (!seen.has(label)) {
					seen.add(label);
					inclusiveUs.set(label, (inclusiveUs.get(label) ?? 0) + us);
				}
			}
			cursor = parent.get(cursor);
		}
		if (underOurs) oursUs += us;
		const label = bucket ?? bucketOfLeaf(owner);
		bucketUs.set(label, (bucketUs.get(label) ?? 0) + us);
	}

	const busyUs = Math.max(1, totalUs - idleUs);
	const top = [...self.values()]
		.sort((a, b) => b.us - a.us)
		.slice(0, topN)
		.map(({ frame, us }) => ({
			name: frame.functionName || '(anonymous)',
			location: frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '',
			owner: ownerOf(frame),
			selfMs: us / 1000,
			selfPct: (100 * us) / busyUs,
		}));
	return {
		totalMs: totalUs / 1000,
		busyMs: busyUs / 1000,
		byOwner: [...ownerUs.entries()]
			.sort((a, b) => b[1] - a[1])
			.map(([owner, us]) => ({ owner, selfMs: us / 1000, pctOfBusy: (100 * us) / busyUs })),
		top,
		inclusive: [...inclusiveUs.entries()]
			.sort((a, b) => b[1] - a[1])
			.map(([name, us]) => ({ name, ms: us / 1000, pctOfBusy: (100 * us) / busyUs })),
		underOurFramesMs: oursUs / 1000,
		attribution: [...bucketUs.entries()]
			.sort((a, b) => b[1] - a[1])
			.map(([label, us]) => ({ label, ms: us / 1000, pctOfBusy: (100 * us) / busyUs })),
	};
}

function perItemOf(items: number) {
	return (ms: number) => (ms * 1000 >= items * 1000 ? `${(ms / items).toFixed(1)} ms` : `${((ms * 1000) / items).toFixed(1)} µs`);
}

/** The buckets table and the top self-time functions: the short form. */
export function formatAttribution(summary: ProfileSummary, items: number, topN = 10): string {
	const perItem = perItemOf(items);
	const lines: string[] = [
		`Sampled ${summary.totalMs.toFixed(0)} ms, busy (not idle) ${summary.busyMs.toFixed(0)} ms over ${items} = ${perItem(summary.busyMs)} each.`,
		'',
		'Where the time goes (each sample charged once: to the outermost n8n entry point on its stack, else to the owner of the running function):',
		'',
		'| bucket | ms | % of busy | per item |',
		'|---|---:|---:|---:|',
	];
	for (const row of summary.attribution) {
		lines.push(`| ${row.label} | ${row.ms.toFixed(0)} | ${row.pctOfBusy.toFixed(1)} | ${perItem(row.ms)} |`);
	}
	lines.push('', `Top ${Math.min(topN, summary.top.length)} functions by self time:`, '', '| # | function | where | owner | self ms | % of busy |', '|---:|---|---|---|---:|---:|');
	summary.top.slice(0, topN).forEach((f, i) => {
		lines.push(`| ${i + 1} | ${f.name} | ${f.location} | ${f.owner} | ${f.selfMs.toFixed(0)} | ${f.selfPct.toFixed(1)} |`);
	});
	return lines.join('\n');
}

export function formatSummary(summary: ProfileSummary, items: number): string {
	const lines: string[] = [];
	const perItem = perItemOf(items);
	lines.push(formatAttribution(summary, items, 25));
	lines.push('', 'Self time by owner (% of busy):', '', '| owner | self ms | % | per item |', '|---|---:|---:|---:|');
	for (const row of summary.byOwner.slice(0, 14)) {
		lines.push(`| ${row.owner} | ${row.selfMs.toFixed(0)} | ${row.pctOfBusy.toFixed(1)} | ${perItem(row.selfMs)} |`);
	}
	lines.push(
		'',
		'Inclusive time (synchronous stacks only; work after an `await` is counted where it resumes):',
		'',
		'| function (owner) | ms | % of busy | per item |',
		'|---|---:|---:|---:|',
	);
	for (const row of summary.inclusive.slice(0, 24)) {
		lines.push(`| ${row.name} | ${row.ms.toFixed(0)} | ${row.pctOfBusy.toFixed(1)} | ${perItem(row.ms)} |`);
	}
	lines.push(
		'',
		`Busy samples with a frame of our node on the stack (our code + n8n helpers it calls synchronously): ${summary.underOurFramesMs.toFixed(0)} ms (${((100 * summary.underOurFramesMs) / summary.busyMs).toFixed(1)}%)`,
	);
	return lines.join('\n');
}
