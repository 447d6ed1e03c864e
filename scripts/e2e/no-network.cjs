'use strict';
// Preloaded into every n8n process the e2e scripts start (NODE_OPTIONS=--require <this file>).
// n8n 2.x reaches out on its own (MCP registry, community-node catalogue, banners, license...). This
// machine has no outside network and tests must send traffic to loopback only, so: name lookups of
// anything but localhost fail at once with ENOTFOUND, and sockets to non-loopback IPs are refused,
// without a packet leaving the process. Each blocked attempt is appended to $E2E_NETLOG (if set).
const dns = require('node:dns');
const net = require('node:net');
const fs = require('node:fs');

const logFile = process.env.E2E_NETLOG;

function note(kind, host) {
	if (!logFile) return;
	try {
		fs.appendFileSync(logFile, `${new Date().toISOString()} pid=${process.pid} ${kind} ${host}\n`);
	} catch {
		/* best effort */
	}
}

function isLoopbackIp(ip) {
	if (net.isIPv4(ip)) return ip.startsWith('127.');
	if (net.isIPv6(ip)) {
		const l = ip.toLowerCase();
		return l === '::1' || l.startsWith('::ffff:127.') || l === '0:0:0:0:0:0:0:1';
	}
	return false;
}

function isLocalName(host) {
	if (!host) return true; // net defaults to localhost
	const h = String(host).toLowerCase().replace(/^\[|\]$/g, '');
	if (net.isIP(h)) return isLoopbackIp(h) || h === '0.0.0.0' || h === '::';
	return h === 'localhost' || h.endsWith('.localhost');
}

function notFound(hostname) {
	const err = new Error(`getaddrinfo ENOTFOUND ${hostname} (blocked by e2e no-network guard)`);
	err.code = 'ENOTFOUND';
	err.errno = -3008;
	err.syscall = 'getaddrinfo';
	err.hostname = hostname;
	return err;
}

const originalLookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, options, callback) {
	if (typeof options === 'function') {
		callback = options;
		options = {};
	}
	if (isLocalName(hostname)) return originalLookup.call(this, hostname, options, callback);
	note('dns', hostname);
	process.nextTick(() => callback(notFound(hostname)));
	return {};
};

const originalPromisesLookup = dns.promises.lookup;
dns.promises.lookup = async function guardedPromisesLookup(hostname, options) {
	if (isLocalName(hostname)) return originalPromisesLookup.call(this, hostname, options);
	note('dns', hostname);
	throw notFound(hostname);
};

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
	let opts = args[0];
	if (Array.isArray(opts)) opts = opts[0]; // internal normalized form
	let host;
	if (opts && typeof opts === 'object') {
		if (opts.path) return originalConnect.apply(this, args); // unix socket / IPC
		host = opts.host;
	} else if (typeof opts === 'string' && !/^\d+$/.test(opts)) {
		return originalConnect.apply(this, args); // unix socket path
	} else if (typeof args[1] === 'string') {
		host = args[1];
	}
	if (host && net.isIP(String(host).replace(/^\[|\]$/g, '')) && !isLocalName(host)) {
		note('connect', host);
		const err = new Error(`connect ECONNREFUSED ${host} (blocked by e2e no-network guard)`);
		err.code = 'ECONNREFUSED';
		err.syscall = 'connect';
		err.address = host;
		process.nextTick(() => this.destroy(err));
		return this;
	}
	return originalConnect.apply(this, args);
};
