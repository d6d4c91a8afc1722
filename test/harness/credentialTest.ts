import {
	NodeConnectionTypes,
	type ICredentialDataDecryptedObject,
	type INode,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { WeChatOfficialAccountApi } from '../../credentials/WeChatOfficialAccountApi.credentials';
import { EngineHarness } from './engine';

/**
 * What n8n's "Test" button on the credential does (CredentialsTester in n8n 2.41): it runs the credential's `test`
 * request as a declarative node of type n8n-nodes-base.noOp with a hidden `temp` parameter (which makes n8n run
 * preAuthentication even when a token is stored), then applies the `responseSuccessBody` rules to the answer.
 */
const TESTER_NODE_TYPE = 'n8n-nodes-base.noOp';

class CredentialTestNode implements INodeType {
	description: INodeTypeDescription;

	constructor() {
		const credential = new WeChatOfficialAccountApi();
		this.description = {
			displayName: 'Credential test',
			name: 'noOp',
			group: ['transform'],
			version: 1,
			description: '',
			defaults: { name: 'Credential test' },
			inputs: [NodeConnectionTypes.Main],
			outputs: [NodeConnectionTypes.Main],
			credentials: [{ name: credential.name, required: true }],
			properties: [
				{
					displayName: 'Temp',
					name: 'temp',
					type: 'string',
					default: '',
					routing: { request: { ...credential.test.request } },
				},
			],
		};
	}
}

export interface CredentialTestResult {
	status: 'OK' | 'Error';
	message: string;
}

export async function testCredential(data: ICredentialDataDecryptedObject): Promise<CredentialTestResult> {
	const harness = new EngineHarness(data);
	harness.nodeTypes.register(TESTER_NODE_TYPE, new CredentialTestNode());
	const node: INode = {
		id: 'credential-test',
		name: 'Temp-Node',
		type: TESTER_NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: { temp: '' },
		credentials: { weChatOfficialAccountApi: { id: 'wechat-credential-1', name: 'tested' } },
	};
	const run = await harness.runWorkflow([node], [{ json: {} }]);
	const error = run.data.resultData.error;
	if (error) {
		return { status: 'Error', message: String(error.message) };
	}
	const response = run.data.resultData.runData[node.name]?.[0]?.data?.main?.[0]?.[0]?.json ?? {};
	for (const rule of new WeChatOfficialAccountApi().test.rules ?? []) {
		if (rule.type === 'responseSuccessBody' && response[rule.properties.key] === rule.properties.value) {
			return { status: 'Error', message: rule.properties.message };
		}
	}
	return { status: 'OK', message: 'Connection successful!' };
}
