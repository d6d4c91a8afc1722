/**
 * The one place that knows n8n's internals, i.e. what n8n does not document as an interface and may change in any
 * release: its database schema (execution_entity, execution_data, workflow_entity's static data; sqlite, and
 * PostgreSQL in queue mode), the `flatted` serialization of stored run data, the JSON `n8n execute --rawOutput` prints,
 * a queue-mode worker's log line for the execution it takes, the editor's `/rest/*` routes, and the differences between
 * 1.x and 2.x in CLI commands and environment variables. Each was checked against the versions in SUPPORTED_N8N_VERSIONS only; the
 * adapter reads the version of the n8n it talks to and refuses any other, so that a new n8n fails here with a clear
 * message, not later in a confusing assertion.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { N8nInstall } from './n8nInstall';
import type { CredentialInput } from './n8nInstance';
import { commandFailure, run } from './processes';
import { fetchWithTimeout, sleep } from './waits';

export const SUPPORTED_N8N_VERSIONS: readonly string[] = ['2.41.0', '1.123.81'];

export function assertSupportedN8nVersion(version: string): void {
	if (SUPPORTED_N8N_VERSIONS.includes(version)) return;
	throw new Error(
		`n8n ${version} is not a version these scripts were tested with (supported: ${SUPPORTED_N8N_VERSIONS.join(', ')}). ` +
			'Check what scripts/n8n/lib/n8nInternals.ts relies on (database schema, execution data, /rest routes, CLI) ' +
			'against that version, then add it to SUPPORTED_N8N_VERSIONS.',
	);
}

export interface ExecutionOutput {
	/** `n8n execute --rawOutput`'s JSON: the run, with data.resultData.runData per node. */
	raw: Record<string, unknown>;
	/** The `json` of every output item of a node's last run, all outputs concatenated. */
	items(nodeName: string, output?: number): Array<Record<string, unknown>>;
	/** Whether the node ran at all. */
	ran(nodeName: string): boolean;
	error?: { message: string; description?: string; node?: string };
}

interface RunDataEntry {
	data?: { main?: Array<Array<{ json: Record<string, unknown> }> | null> };
}

/** Reads n8n's run object (`{ data: { resultData: { runData, error } } }`), from the CLI or from the database. */
export function toExecutionOutput(raw: Record<string, unknown>): ExecutionOutput {
	const resultData = ((raw.data as Record<string, unknown> | undefined)?.resultData ?? {}) as {
		runData?: Record<string, RunDataEntry[]>;
		error?: { message: string; description?: string; node?: { name?: string } };
	};
	const runData = resultData.runData ?? {};
	const error = resultData.error;
	return {
		raw,
		ran: (name) => (runData[name]?.length ?? 0) > 0,
		items(name, output) {
			const runs = runData[name];
			if (!runs?.length) return [];
			const main = runs[runs.length - 1].data?.main ?? [];
			const outputs = output === undefined ? main : [main[output]];
			return outputs.flatMap((items) => (items ?? []).map((item) => item.json));
		},
		error: error ? { message: error.message, description: error.description, node: error.node?.name } : undefined,
	};
}

/** A row of execution_entity (1.x and 2.x both keep executions there). */
export interface ExecutionRow {
	id: string;
	workflowId: string;
	status: string;
	finished: number;
	mode: string;
}

export interface Owner {
	email: string;
	password: string;
	firstName: string;
	lastName: string;
}

/** What a `/rest/*` call answered; `data` is the body's `data` when the status is 200. */
export interface RestAnswer {
	status: number;
	text: string;
	data?: Record<string, unknown>;
}

export interface ListSearchRequest {
	nodeType: string;
	nodeVersion: number;
	methodName: string;
	/** The parameter's path, e.g. `parameters.kfAccount`. */
	parameterPath: string;
	currentNodeParameters: Record<string, unknown>;
	credentials: Record<string, { id: string; name: string }>;
	filter: string;
}

/**
 * The editor's sign-in call. Both field names: 1.x reads `email`, 2.x `emailOrLdapLoginId`. Exported for
 * screenshots.ts, which must sign in from inside the browser so that the session cookie lands there.
 */
export function loginRequest(owner: Pick<Owner, 'email' | 'password'>): { path: string; body: Record<string, string> } {
	return {
		path: '/rest/login',
		body: { email: owner.email, emailOrLdapLoginId: owner.email, password: owner.password },
	};
}

/** What the adapter needs of an instance: where its install, data and server are. */
export interface N8nInternalsTarget {
	install: N8nInstall;
	userFolder: string;
	baseUrl: string;
	logFile: string;
	/** Queue mode: n8n's database is this PostgreSQL (rows as JSON), not the user folder's sqlite file. */
	postgresQuery?: <T>(sql: string) => Promise<T[]>;
}

export class N8nInternals {
	/** The version of the installed n8n itself (its package.json), not the one asked for. */
	readonly version: string;
	private readonly major: number;

	constructor(private readonly target: N8nInternalsTarget) {
		const manifest = path.join(target.install.dir, 'node_modules', 'n8n', 'package.json');
		this.version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
		assertSupportedN8nVersion(this.version);
		this.major = Number(this.version.split('.')[0]);
	}

	/** Variables whose meaning differs between 1.x and 2.x. */
	versionEnvironment(): NodeJS.ProcessEnv {
		// 2.x: keep the MCP registry module from starting (1.x does not know the module and refuses to start with it).
		if (this.major >= 2) return { N8N_DISABLED_MODULES: 'mcp-registry' };
		// 1.x: the task runner and the env-access block are opt-in there, on by default in 2.x.
		return { N8N_RUNNERS_ENABLED: 'true', N8N_BLOCK_ENV_ACCESS_IN_NODE: 'true' };
	}

	/** The CLI arguments that activate a workflow: 2.x publishes, 1.x sets it active. */
	publishArgs(workflowId: string): string[] {
		return this.major >= 2
			? ['publish:workflow', `--id=${workflowId}`]
			: ['update:workflow', `--id=${workflowId}`, '--active=true'];
	}

	/** The CLI arguments that deactivate a workflow: 2.x unpublishes, 1.x sets it inactive. */
	unpublishArgs(workflowId: string): string[] {
		return this.major >= 2
			? ['unpublish:workflow', `--id=${workflowId}`]
			: ['update:workflow', `--id=${workflowId}`, '--active=false'];
	}

	/**
	 * The run in `n8n execute --rawOutput`'s stdout. Log lines can precede the JSON (and error lines follow it when the
	 * workflow failed); n8n pretty-prints it with two-space indentation, so it starts with a line "{" and ends with the
	 * first line that is exactly "}".
	 */
	parseExecuteOutput(stdout: string): ExecutionOutput | undefined {
		const lines = stdout.split('\n');
		const start = lines.findIndex((line) => line === '{');
		const end = lines.findIndex((line, index) => index > start && line === '}');
		if (start < 0 || end < 0) return undefined;
		try {
			return toExecutionOutput(JSON.parse(lines.slice(start, end + 1).join('\n')) as Record<string, unknown>);
		} catch {
			return undefined;
		}
	}

	/** Executions stored by n8n, oldest first. */
	async executions(workflowId?: string): Promise<ExecutionRow[]> {
		// Identifiers in double quotes: PostgreSQL folds unquoted ones to lower case; sqlite reads both.
		const where = workflowId ? ` WHERE "workflowId" = '${workflowId.replace(/'/g, "''")}'` : '';
		return await this.query<ExecutionRow>(
			`SELECT CAST(id AS TEXT) AS id, "workflowId", status, finished, mode FROM execution_entity${where} ORDER BY id`,
		);
	}

	/** Waits until `count` executions of the workflow have ended (not new/running/waiting), bounded; returns all. */
	async waitForExecutions(workflowId: string, count: number, timeoutMs = 60_000): Promise<ExecutionRow[]> {
		const deadline = Date.now() + timeoutMs;
		let rows: ExecutionRow[] = [];
		while (Date.now() < deadline) {
			rows = await this.executions(workflowId);
			const ended = rows.filter((row) => !['new', 'running', 'waiting'].includes(row.status));
			if (ended.length >= count) return rows;
			await sleep(500);
		}
		throw new Error(
			`timed out after ${timeoutMs} ms waiting for ${count} finished execution(s) of ${workflowId}; have ${JSON.stringify(rows)} (log: ${this.target.logFile})`,
		);
	}

	/** What an execution stored: the run data in execution_data, serialized with n8n's own copy of `flatted`. */
	async executionData(executionId: string): Promise<ExecutionOutput> {
		const [row] = await this.query<{ data: string }>(
			`SELECT data FROM execution_data WHERE "executionId" = ${Number(executionId)}`,
		);
		if (!row) throw new Error(`execution ${executionId} has no stored data`);
		const flattedPath = path.join(this.target.install.dir, 'node_modules', 'flatted');
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const flatted = require(flattedPath) as { parse(text: string): unknown };
		return toExecutionOutput({ data: flatted.parse(row.data) as Record<string, unknown> });
	}

	/**
	 * The workflow's static data as n8n stored it (workflow_entity.staticData, JSON), where nodes keep state between
	 * production executions (the chat-record cursor, the shared push memory), and its size in characters.
	 */
	async staticData(workflowId: string): Promise<{ value: Record<string, unknown>; chars: number }> {
		const [row] = await this.query<{ staticData: unknown }>(
			`SELECT "staticData" FROM workflow_entity WHERE id = '${workflowId.replace(/'/g, "''")}'`,
		);
		const raw = row?.staticData ?? null;
		const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
		return { value: (text ? JSON.parse(text) : {}) as Record<string, unknown>, chars: text?.length ?? 0 };
	}

	/**
	 * Which executions a queue-mode worker ran, from its log: n8n 2.x logs "Worker started execution <id> (job <n>)" at
	 * level info when a worker takes an execution off the queue.
	 */
	workerExecutionIds(workerLog: string): string[] {
		return [...workerLog.matchAll(/Worker started execution (\d+) \(job /g)].map((match) => match[1]);
	}

	/**
	 * SQL against n8n's database: in queue mode its PostgreSQL, else the sqlite file with n8n's own sqlite3 module and
	 * Node (the machine may have no sqlite3 CLI). Read-only, so it is safe while n8n runs.
	 */
	private async query<T>(sql: string): Promise<T[]> {
		if (this.target.postgresQuery) return await this.target.postgresQuery<T>(sql);
		const { install, userFolder } = this.target;
		const script = `
const sqlite3 = require(${JSON.stringify(path.join(install.dir, 'node_modules', 'sqlite3'))});
const db = new sqlite3.Database(process.argv[1], sqlite3.OPEN_READONLY, (error) => { if (error) { console.error(error.message); process.exit(2); } });
db.configure('busyTimeout', 5000);
db.all(process.argv[2], (error, rows) => { if (error) { console.error(error.message); process.exit(3); } process.stdout.write(JSON.stringify(rows)); db.close(); });
`;
		const database = path.join(userFolder, '.n8n', 'database.sqlite');
		const result = await run(install.nodeBin, ['-e', script, database, sql], { timeoutMs: 30_000, cwd: userFolder });
		if (result.code !== 0) throw commandFailure(`sqlite query ${sql}`, result);
		return JSON.parse(result.stdout) as T[];
	}

	/** The first-start owner set-up, as the editor's set-up screen makes it. */
	async setUpOwner(owner: Owner): Promise<RestAnswer> {
		return await this.post('owner/setup', owner);
	}

	/** Signs in; `cookie` carries the session for the calls below. */
	async logIn(owner: Owner): Promise<RestAnswer & { cookie: string }> {
		const answer = await this.post('login', loginRequest(owner).body);
		const cookie = answer.cookies.map((entry) => entry.split(';')[0]).join('; ');
		return { ...answer, cookie };
	}

	/** The credential's Test button: data is `{ status: 'OK' | 'Error', message }`. */
	async testCredential(cookie: string, credential: CredentialInput): Promise<RestAnswer> {
		return await this.post('credentials/test', { credentials: credential }, cookie);
	}

	/** A resource locator's list search in the editor (a node's `listSearch` method): data is `{ results }`. */
	async searchList(cookie: string, request: ListSearchRequest): Promise<RestAnswer> {
		const { nodeType, nodeVersion, parameterPath, ...rest } = request;
		const body = { nodeTypeAndVersion: { name: nodeType, version: nodeVersion }, path: parameterPath, ...rest };
		return await this.post('dynamic-node-parameters/resource-locator-results', body, cookie);
	}

	private async post(route: string, body: unknown, cookie?: string): Promise<RestAnswer & { cookies: string[] }> {
		const response = await fetchWithTimeout(
			`${this.target.baseUrl}/rest/${route}`,
			{
				method: 'POST',
				headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
				body: JSON.stringify(body),
			},
			15_000,
		);
		const text = await response.text();
		const cookies = response.headers.getSetCookie();
		if (response.status !== 200) return { status: response.status, text, cookies };
		return { status: 200, text, cookies, data: (JSON.parse(text) as { data: Record<string, unknown> }).data };
	}
}
