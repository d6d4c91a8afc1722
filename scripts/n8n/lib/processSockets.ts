/**
 * The second, independent witness beside netGuard.cjs that nothing leaves loopback: the sockets a process tree holds,
 * read from /proc. It also sees n8n's task runner, which n8n starts with an environment of its own (no NODE_OPTIONS,
 * so no guard).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function descendants(pid: number): number[] {
	const found = [pid];
	for (let i = 0; i < found.length; i++) {
		let tasks: string[] = [];
		try {
			tasks = readdirSync(`/proc/${found[i]}/task`);
		} catch {
			continue;
		}
		for (const task of tasks) {
			try {
				const text = readFileSync(`/proc/${found[i]}/task/${task}/children`, 'utf8').trim();
				for (const child of text.split(/\s+/).filter(Boolean)) found.push(Number(child));
			} catch {
				// The task ended.
			}
		}
	}
	return found;
}

function hexToAddress(hex: string): string {
	const [ip, port] = hex.split(':');
	if (ip.length === 8) {
		const bytes = ip
			.match(/../g)!
			.map((byte) => parseInt(byte, 16))
			.reverse();
		return `${bytes.join('.')}:${parseInt(port, 16)}`;
	}
	// IPv6: four little-endian 32-bit words.
	const words = ip.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join(''));
	const groups = words
		.join('')
		.match(/.{4}/g)!
		.map((group) => group.replace(/^0+(?=.)/, ''));
	return `[${groups.join(':')}]:${parseInt(port, 16)}`;
}

function isLoopbackOrUnset(address: string): boolean {
	const host = address.replace(/:\d+$/, '').toLowerCase();
	return (
		host.startsWith('127.') ||
		host === '0.0.0.0' ||
		host === '[0:0:0:0:0:0:0:0]' ||
		host === '[0:0:0:0:0:0:0:1]' ||
		// IPv4-mapped loopback, ::ffff:127.x.y.z
		/^\[0:0:0:0:0:ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host)
	);
}

/** The TCP/UDP sockets held now by the process tree of `pid` whose remote end is neither loopback nor unset. */
export function nonLoopbackSocketsOf(pid: number): string[] {
	const inodes = new Set<string>();
	for (const member of descendants(pid)) {
		let fds: string[] = [];
		try {
			fds = readdirSync(`/proc/${member}/fd`);
		} catch {
			continue;
		}
		for (const fd of fds) {
			try {
				const link = readlinkSync(`/proc/${member}/fd/${fd}`);
				const match = /^socket:\[(\d+)\]$/.exec(link);
				if (match) inodes.add(match[1]);
			} catch {
				// Closed meanwhile.
			}
		}
	}
	const found: string[] = [];
	for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
		let text = '';
		try {
			text = readFileSync(`/proc/net/${table}`, 'utf8');
		} catch {
			continue;
		}
		for (const line of text.split('\n').slice(1)) {
			const fields = line.trim().split(/\s+/);
			if (fields.length < 10 || !inodes.has(fields[9])) continue;
			const remote = hexToAddress(fields[2]);
			if (!isLoopbackOrUnset(remote)) found.push(`${table} ${hexToAddress(fields[1])} -> ${remote}`);
		}
	}
	return found;
}
