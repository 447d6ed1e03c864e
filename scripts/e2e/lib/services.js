'use strict';
// Postgres and Redis for the queue-mode e2e run: Debian's own packages, started by this script, on free
// loopback ports, with their data outside the repo, and always stopped again (also from an exit hook).
//
// Postgres: one cluster, initialised once (initdb under the `postgres` user via runuser) in
//   $E2E_PG_DIR (default /var/cache/n8n-nodes-llamacloud-chat/postgres15: the postgres user cannot enter
//   /root, so the cluster cannot live under ~/.cache). Each run starts it on a free port, creates its own
//   database from a migrated template (one per n8n version, made on the first run) and drops it at the end.
// Redis: `redis-server --daemonize yes` on a free port, persistence off, files in the run's temp folder.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { run } = require('./proc');

const PG_BIN = process.env.E2E_PG_BIN || '/usr/lib/postgresql/15/bin';
const PG_DIR = process.env.E2E_PG_DIR || '/var/cache/n8n-nodes-llamacloud-chat/postgres15';
const INSTALL_HINT = 'apt-get install -y postgresql-15 redis-server';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Run a Postgres binary as the cluster owner (runuser when we are root; postgres refuses to run as root). */
function pgCommand(bin, args) {
	const exe = path.join(PG_BIN, bin);
	return isRoot() ? { cmd: 'runuser', args: ['-u', 'postgres', '--', exe, ...args] } : { cmd: exe, args };
}

function requireBinaries() {
	const missing = [];
	for (const b of ['initdb', 'pg_ctl', 'postgres', 'psql']) if (!fs.existsSync(path.join(PG_BIN, b))) missing.push(`${PG_BIN}/${b}`);
	for (const b of ['redis-server']) {
		try {
			execFileSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' });
		} catch {
			missing.push(b);
		}
	}
	if (missing.length) throw new Error(`missing ${missing.join(', ')}; install with: ${INSTALL_HINT}`);
}

class Postgres {
	constructor({ logDir }) {
		this.dataDir = path.join(PG_DIR, 'data');
		this.sockDir = path.join(PG_DIR, 'sock');
		// The server runs as `postgres`, which may not enter the repo's folder (a clone made with
		// mktemp -d is 0700): it logs into its own cache folder, copied to the artifacts when it stops.
		this.logFile = path.join(PG_DIR, 'log', 'postgres.log');
		this.artifactLog = path.join(logDir, 'postgres.log');
		this.port = null;
		this.started = false;
	}

	/** initdb once (cached); returns ms spent (0 when the cluster already existed). */
	async init() {
		requireBinaries();
		if (fs.existsSync(path.join(this.dataDir, 'PG_VERSION'))) return 0;
		const t0 = Date.now();
		fs.rmSync(this.dataDir, { recursive: true, force: true });
		fs.mkdirSync(this.sockDir, { recursive: true });
		if (isRoot()) execFileSync('chown', ['-R', 'postgres:postgres', PG_DIR]);
		// trust on loopback only: the cluster listens on 127.0.0.1 and a socket in its own folder.
		const c = pgCommand('initdb', ['-D', this.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-instructions', '--no-sync']);
		const r = await run(c.cmd, c.args, { timeoutMs: 120_000 });
		if (r.code !== 0) throw new Error(`initdb failed: ${r.stderr.slice(-800)}`);
		return Date.now() - t0;
	}

	async start(port) {
		this.port = port;
		if (fs.existsSync(path.join(this.dataDir, 'postmaster.pid'))) {
			const st = pgCommand('pg_ctl', ['-D', this.dataDir, 'status']);
			const s = await run(st.cmd, st.args, { timeoutMs: 20_000 });
			if (s.code === 0) throw new Error(`the cluster in ${this.dataDir} is already running (another queue run?); stop it with: runuser -u postgres -- ${PG_BIN}/pg_ctl -D ${this.dataDir} stop`);
		}
		fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
		fs.writeFileSync(this.logFile, '');
		if (isRoot()) execFileSync('chown', ['-R', 'postgres:postgres', path.dirname(this.logFile)]);
		const opts = [
			`-p ${port}`,
			"-c listen_addresses='127.0.0.1'",
			`-c unix_socket_directories='${this.sockDir}'`,
			'-c max_connections=200',
			// a throw-away test database: durability is not what is measured
			'-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
		].join(' ');
		const c = pgCommand('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-o', opts, '-w', '-t', '60', 'start']);
		const r = await run(c.cmd, c.args, { timeoutMs: 90_000 });
		if (r.code !== 0) {
			const log = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8').slice(-600) : '(no log)';
			throw new Error(`pg_ctl start failed: ${r.stdout.slice(-400)} ${r.stderr.slice(-400)}; log ${this.logFile}: ${log}`);
		}
		this.started = true;
	}

	/** psql -At: rows as arrays of strings. */
	async query(sql, { db = 'postgres' } = {}) {
		const r = await run(path.join(PG_BIN, 'psql'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-At', '-F', '\t', '-c', sql], { timeoutMs: 60_000 });
		if (r.code !== 0) throw new Error(`psql: ${r.stderr.trim().slice(-500)} (${sql.slice(0, 120)})`);
		return r.stdout.split('\n').filter((l) => l.length).map((l) => l.split('\t'));
	}

	async databaseExists(name) {
		return (await this.query(`select 1 from pg_database where datname = '${name}'`)).length > 0;
	}

	async stop() {
		if (!this.started) return;
		const c = pgCommand('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
		await run(c.cmd, c.args, { timeoutMs: 90_000 }).catch(() => {});
		this.started = false;
		this.copyLog();
	}

	/** The server's log into the run's artifacts (read there, e.g. by the secret scan). */
	copyLog() {
		try {
			fs.copyFileSync(this.logFile, this.artifactLog);
		} catch {
			/* no log yet */
		}
	}

	stopSync() {
		if (!this.started) return;
		const c = pgCommand('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop']);
		try {
			execFileSync(c.cmd, c.args, { stdio: 'ignore', timeout: 40_000 });
		} catch {
			/* already stopped */
		}
		this.started = false;
		this.copyLog();
	}
}

/** Send one inline Redis command; resolves with the raw reply. */
function redisCommand(port, command, timeoutMs = 2000) {
	return new Promise((resolve, reject) => {
		const sock = net.connect({ host: '127.0.0.1', port });
		let buf = '';
		const timer = setTimeout(() => {
			sock.destroy();
			reject(new Error(`redis ${command}: timeout`));
		}, timeoutMs);
		sock.on('connect', () => sock.write(`${command}\r\n`));
		sock.on('data', (d) => {
			buf += d;
			if (buf.includes('\r\n')) {
				clearTimeout(timer);
				sock.end();
				resolve(buf.trim());
			}
		});
		sock.on('error', (e) => {
			clearTimeout(timer);
			reject(e);
		});
		sock.on('close', () => {
			clearTimeout(timer);
			resolve(buf.trim());
		});
	});
}

class Redis {
	constructor({ dir }) {
		this.dir = dir;
		this.pidFile = path.join(dir, 'redis.pid');
		this.logFile = path.join(dir, 'redis.log');
		this.port = null;
		this.pid = null;
	}

	async start(port) {
		requireBinaries();
		this.port = port;
		fs.mkdirSync(this.dir, { recursive: true });
		const args = ['--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'yes', '--save', '', '--appendonly', 'no',
			'--dir', this.dir, '--pidfile', this.pidFile, '--logfile', this.logFile];
		const r = await run('redis-server', args, { timeoutMs: 20_000 });
		if (r.code !== 0) throw new Error(`redis-server failed: ${r.stderr || r.stdout}`);
		const deadline = Date.now() + 15_000;
		while (Date.now() < deadline) {
			if (!this.pid && fs.existsSync(this.pidFile)) this.pid = Number(fs.readFileSync(this.pidFile, 'utf8').trim());
			const pong = await redisCommand(port, 'PING').catch(() => '');
			if (pong === '+PONG' && this.pid) return;
			await new Promise((res) => setTimeout(res, 100));
		}
		throw new Error(`redis-server did not answer PING on ${port}; log: ${this.logFile}`);
	}

	async stop() {
		if (!this.pid) return;
		await redisCommand(this.port, 'SHUTDOWN NOSAVE').catch(() => {});
		const deadline = Date.now() + 10_000;
		while (Date.now() < deadline && alive(this.pid)) await new Promise((res) => setTimeout(res, 100));
		this.stopSync();
	}

	stopSync() {
		if (this.pid && alive(this.pid)) {
			try {
				process.kill(this.pid, 'SIGKILL');
			} catch {
				/* gone */
			}
		}
		this.pid = null;
	}
}

function alive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

module.exports = { Postgres, Redis, PG_DIR, INSTALL_HINT, redisCommand, alive };
