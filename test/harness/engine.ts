import './env';

import {
	NodeConnectionTypes,
	Workflow,
	type ExecutionError,
	type ICredentialDataDecryptedObject,
	type IExecuteFunctions,
	type INode,
	type INodeExecutionData,
	type INodeParameters,
	type INodeType,
	type INodeTypeDescription,
	type INodeTypes,
	type IRun,
	type IVersionedNodeType,
	type IWorkflowExecuteAdditionalData,
	type IDataObject,
	type WorkflowExecuteMode,
} from 'n8n-workflow';
import { ExecutionLifecycleHooks, LoadOptionsContext, WorkflowExecute } from 'n8n-core';

import { WeChatOfficialAccountApi } from '../../credentials/WeChatOfficialAccountApi.credentials';
import { WeChatCustomerService } from '../../nodes/WeChatCustomerService/WeChatCustomerService.node.ts';
import { WeChatCustomerServiceTrigger } from '../../nodes/WeChatCustomerServiceTrigger/WeChatCustomerServiceTrigger.node.ts';
import { InMemoryCredentialsHelper } from './credentialsHelper';
import { ensureEngineServices } from './services';

/**
 * Runs real workflows through n8n-core's engine (WorkflowExecute → RoutingNode → httpRequestWithAuthentication),
 * in-process, against the WeChat emulator on loopback. The only stand-ins are the credential store (in memory) and a
 * small "Items" source node that feeds test items, binary data included.
 */

export const NODE_TYPE = 'n8n-nodes-wechat-customer-service.weChatCustomerService';
export const TRIGGER_NODE_TYPE = 'n8n-nodes-wechat-customer-service.weChatCustomerServiceTrigger';
export const SOURCE_NODE_TYPE = 'test.items';
export const CREDENTIAL_ID = 'wechat-credential-1';
const CREDENTIAL_TYPE = 'weChatOfficialAccountApi';

/** An input item as a test writes it: JSON plus binary files given as Buffers. */
export interface TestItem {
	json?: Record<string, unknown>;
	binary?: Record<string, { data: Buffer; fileName?: string; mimeType?: string }>;
}

/** Feeds the test's items, turning Buffers into n8n binary data the way a Read File node would. */
class ItemsSource implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Items',
		name: 'items',
		group: ['input'],
		version: 1,
		description: 'Test source of items',
		defaults: { name: 'Items' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		properties: [{ displayName: 'Items', name: 'itemsKey', type: 'string', default: '' }],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const key = this.getNodeParameter('itemsKey', 0) as string;
		const items = pendingItems.get(key) ?? [];
		const output: INodeExecutionData[] = [];
		for (const [index, item] of items.entries()) {
			const binary: INodeExecutionData['binary'] = {};
			for (const [name, file] of Object.entries(item.binary ?? {})) {
				binary[name] = await this.helpers.prepareBinaryData(file.data, file.fileName, file.mimeType);
			}
			output.push({
				json: (item.json ?? {}) as INodeExecutionData['json'],
				...(item.binary ? { binary } : {}),
				pairedItem: { item: index },
			});
		}
		return [output];
	}
}

const pendingItems = new Map<string, TestItem[]>();
let itemsKeySequence = 0;

class TestNodeTypes implements INodeTypes {
	private readonly types: Record<string, INodeType> = {
		[NODE_TYPE]: new WeChatCustomerService(),
		[TRIGGER_NODE_TYPE]: new WeChatCustomerServiceTrigger(),
		[SOURCE_NODE_TYPE]: new ItemsSource(),
	};

	register(name: string, type: INodeType): void {
		this.types[name] = type;
	}

	getByName(nodeType: string): INodeType | IVersionedNodeType {
		return this.getByNameAndVersion(nodeType);
	}

	getByNameAndVersion(nodeType: string): INodeType {
		const type = this.types[nodeType];
		if (!type) throw new Error(`Unknown node type ${nodeType}`);
		return type;
	}

	getKnownTypes() {
		return {};
	}
}

export interface RunNodeOptions {
	/** The WeChat Customer Service node's parameters (resource, operation, …). */
	parameters: INodeParameters;
	/** Input items; one empty item by default. */
	items?: TestItem[];
	continueOnFail?: boolean;
	/** The execution mode: 'cli' (as `n8n execute`) by default; 'trigger' as a schedule; 'manual' as the editor. */
	mode?: WorkflowExecuteMode;
	/** Node settings such as executeOnce. */
	settings?: Partial<INode>;
	/** Settings → On Error → Continue (using error output): failed items go to the node's second output. */
	errorOutput?: boolean;
	/**
	 * Nodes between Items and the WeChat node, e.g. a WeChat Customer Service Trigger: n8n's engine runs a webhook
	 * node that is not first as a pass-through, as it runs the trigger of a webhook execution with the push's item.
	 */
	upstream?: INode[];
}

export interface RunResult {
	/** The WeChat node's output items (main output 0); empty when the run failed. */
	items: INodeExecutionData[];
	/** With `errorOutput`: the items n8n put on the error output (main output 1). */
	errorItems: INodeExecutionData[];
	/** The execution's error when the node failed without continueOnFail. */
	error?: ExecutionError;
	run: IRun;
}

/**
 * One n8n instance's worth of state: the credential store survives between runs, as the database does between
 * executions, so token caching across executions can be observed.
 */
export class EngineHarness {
	readonly credentials: InMemoryCredentialsHelper;

	readonly nodeTypes = new TestNodeTypes();

	private executionSequence = 0;

	/**
	 * The workflow's static data as n8n's database holds it between executions. Saved the way n8n's
	 * `hookFunctionsSave` does: after every execution that is not manual and changed it, failed ones included.
	 */
	savedStaticData: IDataObject = {};

	constructor(credentialData: ICredentialDataDecryptedObject) {
		ensureEngineServices();
		this.credentials = new InMemoryCredentialsHelper({
			[CREDENTIAL_TYPE]: new WeChatOfficialAccountApi(),
		});
		this.credentials.set(CREDENTIAL_ID, credentialData);
	}

	/** The credential data as n8n saved it (with the cached token). */
	storedCredential(): ICredentialDataDecryptedObject {
		return this.credentials.get(CREDENTIAL_ID);
	}

	updateCredential(changes: ICredentialDataDecryptedObject): void {
		this.credentials.set(CREDENTIAL_ID, { ...this.storedCredential(), ...changes });
	}

	/** Runs Items → WeChat Customer Service and returns the WeChat node's output. */
	async runNode(options: RunNodeOptions): Promise<RunResult> {
		const weChatNode: INode = {
			id: 'wechat',
			name: 'WeChat Customer Service',
			type: NODE_TYPE,
			typeVersion: 1,
			position: [200, 0],
			parameters: options.parameters,
			credentials: { [CREDENTIAL_TYPE]: { id: CREDENTIAL_ID, name: 'WeChat emulator' } },
			...(options.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
			...options.settings,
			...(options.errorOutput ? { onError: 'continueErrorOutput' as const } : {}),
		};
		const run = await this.runWorkflow([...(options.upstream ?? []), weChatNode], options.items ?? [{ json: {} }], options.mode);
		const runData = run.data.resultData.runData[weChatNode.name]?.[0];
		return {
			items: runData?.data?.main?.[0] ?? [],
			errorItems: runData?.data?.main?.[1] ?? [],
			error: run.data.resultData.error,
			run,
		};
	}

	/** Calls one of the node's `listSearch` methods the way the editor does for a resource locator's list. */
	async listSearch(method: string, filter?: string, parameters: INodeParameters = {}) {
		const node: INode = {
			id: 'wechat',
			name: 'WeChat Customer Service',
			type: NODE_TYPE,
			typeVersion: 1,
			position: [0, 0],
			parameters,
			credentials: { [CREDENTIAL_TYPE]: { id: CREDENTIAL_ID, name: 'WeChat emulator' } },
		};
		const workflow = new Workflow({
			nodes: [node],
			connections: {},
			active: false,
			nodeTypes: this.nodeTypes,
		});
		const hooks = new ExecutionLifecycleHooks('internal', 'list-search', {
			id: 'list-search',
			name: 'list search',
			nodes: [node],
			connections: {},
			active: false,
			activeVersionId: null,
			isArchived: false,
			createdAt: new Date(),
			updatedAt: new Date(),
			settings: {},
		});
		const context = new LoadOptionsContext(workflow, node, this.additionalData(hooks, 'list-search'), '');
		const type = this.nodeTypes.getByNameAndVersion(NODE_TYPE);
		const search = type.methods?.listSearch?.[method];
		if (!search) throw new Error(`No listSearch method ${method}`);
		return await search.call(context, filter);
	}

	/** Runs Items → nodes[0] → nodes[1] → … (a straight chain). */
	async runWorkflow(chain: INode[], items: TestItem[], mode: WorkflowExecuteMode = 'cli'): Promise<IRun> {
		const itemsKey = `items-${++itemsKeySequence}`;
		pendingItems.set(itemsKey, items);
		const source: INode = {
			id: 'items',
			name: 'Items',
			type: SOURCE_NODE_TYPE,
			typeVersion: 1,
			position: [0, 0],
			parameters: { itemsKey },
		};
		const nodes = [source, ...chain];
		const connections: Workflow['connectionsBySourceNode'] = {};
		for (let index = 0; index < nodes.length - 1; index++) {
			connections[nodes[index].name] = {
				main: [[{ node: nodes[index + 1].name, type: NodeConnectionTypes.Main, index: 0 }]],
			};
		}
		const workflow = new Workflow({
			id: 'test-workflow',
			name: 'Test workflow',
			nodes,
			connections,
			active: false,
			nodeTypes: this.nodeTypes,
			settings: { executionOrder: 'v1' },
			staticData: structuredClone(this.savedStaticData),
		});
		const executionId = `execution-${++this.executionSequence}`;
		const hooks = new ExecutionLifecycleHooks(mode, executionId, {
			id: workflow.id,
			name: workflow.name ?? '',
			nodes,
			connections,
			active: false,
			activeVersionId: null,
			isArchived: false,
			createdAt: new Date(),
			updatedAt: new Date(),
			settings: {},
		});
		hooks.addHandler('workflowExecuteAfter', (_run, newStaticData) => {
			if (mode !== 'manual' && newStaticData) {
				const saved = JSON.parse(JSON.stringify(newStaticData)) as IDataObject;
				delete saved.__dataChanged;
				this.savedStaticData = saved;
			}
		});
		const additionalData = this.additionalData(hooks, executionId);
		try {
			return await new WorkflowExecute(additionalData, mode).run({ workflow, startNode: source });
		} finally {
			pendingItems.delete(itemsKey);
		}
	}

	private additionalData(hooks: ExecutionLifecycleHooks, executionId: string): IWorkflowExecuteAdditionalData {
		const base = 'http://127.0.0.1:5678';
		return {
			credentialsHelper: this.credentials,
			hooks,
			executionId,
			currentNodeExecutionIndex: 0,
			restApiUrl: `${base}/rest`,
			instanceBaseUrl: base,
			formBaseUrl: `${base}/form`,
			formWaitingBaseUrl: `${base}/form-waiting`,
			formTestBaseUrl: `${base}/form-test`,
			webhookBaseUrl: `${base}/webhook`,
			webhookWaitingBaseUrl: `${base}/webhook-waiting`,
			webhookTestBaseUrl: `${base}/webhook-test`,
			mcpBaseUrl: `${base}/mcp`,
			mcpTestBaseUrl: `${base}/mcp-test`,
			variables: {},
			executeWorkflow: async () => {
				throw new Error('Sub-workflows are not used in these tests');
			},
			getRunExecutionData: async () => undefined,
			getRuntimeCredential: async () => undefined,
			logAiEvent: () => {},
			startRunnerTask: async () => {
				throw new Error('Code runners are not used in these tests');
			},
		} as unknown as IWorkflowExecuteAdditionalData;
	}
}
