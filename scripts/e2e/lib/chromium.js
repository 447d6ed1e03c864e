'use strict';
// Debian's Chromium for the editor test (never a browser downloaded by a test tool).
const fs = require('node:fs');
const { run } = require('./proc');

const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';

/** Make sure CHROMIUM exists; as root on Debian, install the `chromium` package when it is missing. */
async function ensureChromium({ log = console.log } = {}) {
	if (fs.existsSync(CHROMIUM)) return CHROMIUM;
	if (CHROMIUM !== '/usr/bin/chromium') throw new Error(`E2E_CHROMIUM=${CHROMIUM} does not exist`);
	if (typeof process.getuid !== 'function' || process.getuid() !== 0 || !fs.existsSync('/usr/bin/apt-get')) {
		throw new Error('/usr/bin/chromium is missing: install it (apt-get install -y chromium) or run with --skip-browser');
	}
	log('  /usr/bin/chromium missing: apt-get install -y chromium (once per machine)');
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	let r = await run('apt-get', ['update', '-qq'], { env, timeoutMs: 5 * 60_000, label: 'apt-get update' });
	if (r.code !== 0) throw new Error(`apt-get update failed: ${r.stderr.slice(-500)}`);
	r = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { env, timeoutMs: 10 * 60_000, label: 'apt-get install chromium' });
	if (r.code !== 0 || !fs.existsSync(CHROMIUM)) throw new Error(`apt-get install chromium failed: ${r.stderr.slice(-500)}`);
	return CHROMIUM;
}

module.exports = { CHROMIUM, ensureChromium };
