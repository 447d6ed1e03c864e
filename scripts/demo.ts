/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, no-console -- Node.js test/dev code, never run inside n8n */
/**
 * `npm run demo`: runs the example workflows through n8n's real execution engine (n8n-core
 * WorkflowExecute) and prints what the LlamaCloud Chat node outputs.
 *
 * By default it starts the sandbox, a local stand-in for LlamaCloud on 127.0.0.1. With
 * LLAMA_CLOUD_API_KEY set it talks to real LlamaCloud instead (LLAMA_CLOUD_REGION=na|eu,
 * or LLAMA_CLOUD_BASE_URL; LLAMA_CLOUD_INDEX_IDS=idx-1,idx-2 for your own indexes).
 *
 *   npm run demo                      create a session (examples/create-session.json), then ask a question
 *                                     (examples/ask-my-index.json: Message → Ask) and print its answer and citations
 *   npm run demo -- ask-my-index      one example by file name
 *   npm run demo -- --all             every example in examples/
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { startSandbox, type Sandbox } from '../test/sandbox';
import type { LlamaCloudCredentialData } from '../test/harness/credentials';
import { stopEngineServices } from '../test/harness/teardown';
import { runWorkflowFile } from '../test/harness/workflow-file';

const examplesDir = join(__dirname, '..', '..', 'examples');

/** What a newcomer sees first: a session created, then a question answered with its citations. */
const DEFAULT_EXAMPLES = ['create-session.json', 'ask-my-index.json'];

function chooseExamples(args: string[]): string[] {
	const all = readdirSync(examplesDir).filter((file) => file.endsWith('.json')).sort();
	if (args.includes('--all')) return all;
	const named = args.filter((arg) => !arg.startsWith('--')).map((arg) => arg.replace(/\.json$/, '') + '.json');
	for (const file of named) {
		if (!all.includes(file)) throw new Error(`No example "${file}". Available: ${all.join(', ')}`);
	}
	return named.length > 0 ? named : DEFAULT_EXAMPLES;
}

interface Citation {
	result?: Array<{ file_name?: string; page?: number; text?: string }>;
}

/** An answer item as a reader takes it in: the answer, then each cited passage (file, page, text). */
function answerText(json: Record<string, unknown>): string | undefined {
	if (typeof json.answer !== 'string') return undefined;
	const passages = ((json.citations ?? []) as Citation[]).flatMap((citation) => citation.result ?? []);
	const lines = [`Answer: ${json.answer}`, `Citations (${passages.length}):`];
	for (const p of passages) {
		const where = [p.file_name ?? '(no file name)', p.page !== undefined ? `p. ${p.page}` : ''].filter(Boolean).join(', ');
		lines.push(`  - ${where}: "${(p.text ?? '').replace(/\s+/g, ' ').slice(0, 160)}"`);
	}
	return lines.join('\n');
}

function show(value: unknown): string {
	const text = JSON.stringify(value, null, 2);
	return text.length > 4000 ? `${text.slice(0, 4000)}\n  … (${text.length} characters in all)` : text;
}

async function main(): Promise<void> {
	const examples = chooseExamples(process.argv.slice(2));
	const realKey = process.env.LLAMA_CLOUD_API_KEY;
	let sandbox: Sandbox | undefined;
	let credentials: LlamaCloudCredentialData;
	if (realKey) {
		const baseUrl = process.env.LLAMA_CLOUD_BASE_URL ?? '';
		credentials = {
			apiKey: realKey,
			region: baseUrl ? 'custom' : ((process.env.LLAMA_CLOUD_REGION ?? 'na') as 'na' | 'eu'),
			baseUrl,
		};
		console.log(`Target: real LlamaCloud (${baseUrl || `region ${credentials.region}`})`);
	} else {
		sandbox = await startSandbox();
		// Sessions nobody touched for a month, so the nightly cleanup example has work to do.
		sandbox.addSessions(sandbox.fixtures.defaultProjectId, 3, { lastUpdatedAt: new Date(Date.now() - 30 * 86_400_000) });
		credentials = { apiKey: sandbox.apiKey, region: 'custom', baseUrl: sandbox.url };
		console.log(`Target: LlamaCloud sandbox at ${sandbox.url} (a local stand-in for LlamaCloud, not the real service)`);
	}
	const indexIds = process.env.LLAMA_CLOUD_INDEX_IDS?.split(',').map((id) => id.trim()).filter(Boolean);

	let failed = 0;
	let answers = 0;
	try {
		for (const file of examples) {
			const result = await runWorkflowFile(join(examplesDir, file), { credentials, indexIds });
			console.log(`\n=== ${result.name} (examples/${file}) — run by n8n-core's WorkflowExecute`);
			for (const nodeName of result.nodeNames) {
				const taskData = result.run.data.resultData.runData[nodeName]?.[0];
				if (!taskData) continue;
				const items = taskData.data?.main?.[0] ?? [];
				console.log(`\n--- ${nodeName}: ${taskData.executionStatus}, ${items.length} item(s)`);
				for (const item of items) {
					console.log(show(item.json));
					const answer = answerText(item.json);
					if (answer) {
						answers++;
						console.log(`\n${answer}`);
					}
				}
			}
			if (result.error) {
				failed++;
				console.log(`\n✗ ${result.error.message}${result.error.description ? `\n  ${result.error.description}` : ''}`);
			}
		}
	} finally {
		stopEngineServices();
		await sandbox?.close();
	}
	// The demo is there to show an answer: asking and getting none is a failure, not a quiet success.
	if (examples.includes('ask-my-index.json') && answers === 0) {
		failed++;
		console.log('\n✗ examples/ask-my-index.json gave no answer');
	}
	if (failed > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
