'use strict';
// Checks, timed steps and the closing summary shared by the e2e runners (run.js, queue.js).

function createReport({ log = (m) => console.log(m) } = {}) {
	const results = [];
	const timings = [];
	let aborted = false;

	/** Record a check; returns whether it passed (so callers can skip what depends on it). */
	const check = (ok, name, detail) => {
		results.push({ ok: !!ok, name, detail: ok ? undefined : detail });
		if (!ok) log(`  FAIL ${name}${detail ? `: ${String(detail).slice(0, 1200)}` : ''}`);
		return !!ok;
	};

	/** Run a named, timed step; a throw is a failed check; after a failed critical step the rest is skipped. */
	const step = async (name, fn, { critical = false } = {}) => {
		if (aborted) {
			timings.push({ name, ms: 0, status: 'not run' });
			return undefined;
		}
		log(`\n== ${name}`);
		const s = Date.now();
		try {
			const v = await fn();
			timings.push({ name, ms: Date.now() - s, status: 'ok' });
			return v;
		} catch (e) {
			timings.push({ name, ms: Date.now() - s, status: 'error' });
			check(false, `${name}`, e.stack || e.message);
			if (critical) aborted = true;
			return undefined;
		}
	};

	/** Print step timings, then `between()` (if any), the failed checks and the tally; returns the exit code. */
	const summary = ({ t0, logsDir, between, title = 'e2e' }) => {
		const passed = results.filter((r) => r.ok).length;
		const failed = results.filter((r) => !r.ok);
		log('\n== step timings');
		for (const t of timings) log(`  ${t.name.padEnd(48)} ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.status}`);
		log(`  ${'total'.padEnd(48)} ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`);
		if (between) between();
		if (failed.length) {
			log('\n== failed checks');
			for (const f of failed) log(`  - ${f.name}${f.detail ? `: ${String(f.detail).split('\n')[0].slice(0, 300)}` : ''}`);
			if (logsDir) log(`\n  logs: ${logsDir}/`);
		}
		log(`\n${title}: ${passed} passed, ${failed.length} failed`);
		return failed.length === 0 ? 0 : 1;
	};

	return {
		results,
		check,
		step,
		summary,
		abort: () => {
			aborted = true;
		},
	};
}

module.exports = { createReport };
