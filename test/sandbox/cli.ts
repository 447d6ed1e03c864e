/* eslint-disable @n8n/community-nodes/no-restricted-globals, no-console -- Node.js test/dev code, never run inside n8n */
// Standalone sandbox: node dist-test/test/sandbox/cli.js --port 8787 [--host H] [--api-key K] [--latency MS] [--revision 2026-08|current]
import { startSandbox, type Revision } from './server';

function arg(name: string): string | undefined {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
	const sb = await startSandbox({
		port: Number(arg('port') ?? 8787),
		host: arg('host') ?? '127.0.0.1',
		apiKey: arg('api-key'),
		latencyMs: arg('latency') !== undefined ? Number(arg('latency')) : undefined,
		organizationsEndpoint: !process.argv.includes('--no-organizations'),
		// Default: SANDBOX_REVISION, else the published spec's 2026-08.
		revision: arg('revision') as Revision | undefined,
	});
	console.log(
		`LlamaCloud sandbox listening on ${sb.url} (API key: ${sb.apiKey}, API revision ${sb.revision}) - a local stand-in for LlamaCloud, not the real service`,
	);
	for (const [k, v] of Object.entries(sb.fixtures))
		console.log(`  ${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
	const stop = (): void => {
		void sb.close().then(() => process.exit(0));
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
	console.error(err);
	process.exit(1);
});
