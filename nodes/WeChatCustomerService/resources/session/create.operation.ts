import {
	NodeOperationError,
	updateDisplayOptions,
	type IDataObject,
	type IExecuteSingleFunctions,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { weChatOperation } from '../../helpers/operation';
import { requireOpenId, selectedKfAccount } from '../../helpers/validation';
import { weChatApiRequest } from '../../transport/weChatApiRequest';
import { pickLeastLoadedAgent, type OnlineAgent } from './pickLeastLoadedAgent';

type AgentSelection = 'specific' | 'leastLoaded';

async function leastLoadedOnlineAgent(context: IExecuteSingleFunctions): Promise<OnlineAgent> {
	const response = await weChatApiRequest.call(
		context,
		{ method: 'GET', url: '/cgi-bin/customservice/getonlinekflist' },
		context.getItemIndex(),
	);
	const agent = pickLeastLoadedAgent(response.kf_online_list);
	if (agent === undefined) {
		throw new NodeOperationError(context.getNode(), 'No customer-service agent is online (没有在线客服)', {
			itemIndex: context.getItemIndex(),
			description:
				'WeChat lists no agent who is logged in, so no session was created. Put the user in the waiting queue instead: set the WeChat Customer Service Trigger\'s reply to "Transfer to Customer Service" without an account, and WeChat hands the user to the next agent who comes online. Or try again later, e.g. with "Retry On Fail".',
		});
	}
	return agent;
}

export const option: INodePropertyOptions = {
	name: 'Create',
	value: 'create',
	action: 'Create a session',
	description: 'Hand a user to an agent, or to the least-loaded online agent (创建会话)',
	routing: weChatOperation({
		method: 'POST',
		url: '/customservice/kfsession/create',
		read: (context) => {
			const openid = requireOpenId(context, context.getNodeParameter('openId'));
			const selection = context.getNodeParameter('agentSelection', 'specific') as AgentSelection;
			return { openid, chosen: selection === 'leastLoaded' ? undefined : selectedKfAccount(context) };
		},
		// The least-loaded agent is looked up here, not in read: the look-up is a request, and its answer is current.
		run: async ({ openid, chosen }, send, context) => {
			const picked = chosen === undefined ? await leastLoadedOnlineAgent(context) : undefined;
			const kfAccount = chosen ?? picked?.kf_account ?? '';
			await send({ body: { kf_account: kfAccount, openid } });
			const json: IDataObject = { kf_account: kfAccount, openid, created: true };
			if (picked !== undefined) {
				json.selectedBy = 'leastLoaded';
				json.accepted_case = picked.accepted_case;
			}
			return json;
		},
	}),
};

const properties: INodeProperties[] = [
	{
		displayName: 'Agent',
		name: 'agentSelection',
		type: 'options',
		noDataExpression: true,
		default: 'specific',
		options: [
			{
				name: 'Specific Account',
				value: 'specific',
				description: 'The account chosen below; it must be bound to a worker and online',
			},
			{
				name: 'Least-Loaded Online Agent',
				value: 'leastLoaded',
				description:
					'The online agent serving the fewest sessions now (ties: the first one WeChat lists). Costs one extra call (getonlinekflist).',
			},
		],
	},
];

export const fields = updateDisplayOptions(
	{ show: { resource: ['session'], operation: ['create'] } },
	properties,
);
