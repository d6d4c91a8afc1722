/**
 * Loaded into the real n8n with `node --require` (see scripts/n8n/lib/loopbackGuard.ts); plain CommonJS because n8n
 * runs on its own Node without tsx. It proves the "nothing leaves loopback" claim from inside the process instead of
 * trusting it: every outgoing TCP/TLS/HTTP connection (all of them go through net.Socket#connect, fetch and axios
 * included), every DNS lookup and every UDP datagram to anything that is not loopback is written to the file in
 * N8N_E2E_NET_LOG and refused before a packet is sent. The e2e test asserts that file lists nothing, after a positive
 * control proved that a deliberate non-loopback request from a workflow does get recorded.
 */
'use strict';

const fs = require('node:fs');
const net = require('node:net');
const dgram = require('node:dgram');
const dns = require('node:dns');

const logFile = process.env.N8N_E2E_NET_LOG;

function record(kind, target) {
	if (!logFile) return;
	const line = JSON.stringify({ pid: process.pid, kind, target, at: new Date().toISOString() });
	try {
		fs.appendFileSync(logFile, `${line}\n`);
	} catch {
		// The log folder is gone: the run is being torn down.
	}
}

record('loaded', process.argv.slice(1, 3).join(' '));

function isLoopbackHost(host) {
	if (host === undefined || host === null || host === '') return true; // Node defaults to localhost
	const h = String(host)
		.toLowerCase()
		.replace(/^\[|\]$/g, '');
	if (h === 'localhost' || h.endsWith('.localhost')) return true;
	if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
	if (/^127\.\d+\.\d+\.\d+$/.test(h)) return true;
	if (/^::ffff:127\.\d+\.\d+\.\d+$/.test(h)) return true;
	return false;
}

function refusal(target) {
	const error = new Error(`connection to ${target} refused by the e2e loopback guard`);
	error.code = 'ECONNREFUSED';
	return error;
}

// net.Socket#connect(options[, cb]) | (port[, host][, cb]) | (path[, cb]) | Node's internal normalized array.
const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
	let options = args[0];
	if (Array.isArray(options)) options = options[0];
	let host;
	let port;
	let isPath = false;
	if (options !== null && typeof options === 'object') {
		if (options.path) isPath = true;
		host = options.host;
		port = options.port;
	} else if (typeof options === 'string' && !/^\d+$/.test(options)) {
		isPath = true; // a Unix socket path
	} else {
		port = options;
		host = typeof args[1] === 'string' ? args[1] : undefined;
	}
	if (!isPath && !isLoopbackHost(host)) {
		const target = `${host}:${port}`;
		record('tcp', target);
		process.nextTick(() => this.destroy(refusal(target)));
		return this;
	}
	return originalConnect.apply(this, args);
};

function guardLookup(original, name) {
	return function guardedLookup(hostname, ...rest) {
		if (!isLoopbackHost(hostname)) {
			record(name, String(hostname));
			const callback = rest.find((value) => typeof value === 'function');
			const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (e2e loopback guard)`), {
				code: 'ENOTFOUND',
				hostname,
			});
			if (callback) {
				process.nextTick(() => callback(error));
				return {};
			}
			return Promise.reject(error);
		}
		return original.call(this, hostname, ...rest);
	};
}

dns.lookup = guardLookup(dns.lookup, 'dns');
for (const method of ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCname', 'resolveTxt', 'resolveSrv']) {
	if (typeof dns[method] === 'function') dns[method] = guardLookup(dns[method], 'dns');
	if (dns.promises && typeof dns.promises[method] === 'function') {
		dns.promises[method] = guardLookup(dns.promises[method], 'dns');
	}
}
if (dns.promises) dns.promises.lookup = guardLookup(dns.promises.lookup, 'dns');

const originalSend = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function guardedSend(...args) {
	// send(msg[, offset, length], port[, address][, cb]); a connected socket was checked in connect below.
	const address = args.find((value, index) => index > 0 && typeof value === 'string');
	if (address !== undefined && !isLoopbackHost(address)) {
		record('udp', address);
		const callback = args.find((value) => typeof value === 'function');
		if (callback) process.nextTick(() => callback(refusal(address)));
		return undefined;
	}
	return originalSend.apply(this, args);
};
const originalUdpConnect = dgram.Socket.prototype.connect;
dgram.Socket.prototype.connect = function guardedUdpConnect(port, address, callback) {
	if (typeof address === 'string' && !isLoopbackHost(address)) {
		record('udp', `${address}:${port}`);
		const cb = typeof address === 'function' ? address : callback;
		if (typeof cb === 'function') process.nextTick(() => cb(refusal(address)));
		return undefined;
	}
	return originalUdpConnect.apply(
		this,
		[port, address, callback].filter((value) => value !== undefined),
	);
};
