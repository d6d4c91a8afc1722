import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { WeChatCustomerService } from '../../nodes/WeChatCustomerService/WeChatCustomerService.node.ts';

/**
 * The public names (resources, operations, parameters, credential fields) are stored in users' saved workflows: renaming one breaks them silently.
 * This pins every one of them.
 */
const description = new WeChatCustomerService().description;

function operationsOf(resource: string): string[] {
	const property = description.properties.find(
		(p) => p.name === 'operation' && p.displayOptions?.show?.resource?.includes(resource),
	);
	return ((property?.options ?? []) as INodePropertyOptions[]).map((option) => String(option.value));
}

function parametersOf(resource: string, operation: string): string[] {
	return description.properties
		.filter(
			(p: INodeProperties) =>
				p.displayOptions?.show?.resource?.includes(resource) &&
				p.displayOptions?.show?.operation?.includes(operation),
		)
		.map((p) => p.name);
}

describe('the WeChat Customer Service node keeps the contract', () => {
	test('name, tool use and credential', () => {
		assert.equal(description.name, 'weChatCustomerService');
		assert.equal(description.displayName, 'WeChat Customer Service');
		assert.equal(description.usableAsTool, true);
		assert.deepEqual(description.credentials, [{ name: 'weChatOfficialAccountApi', required: true }]);
		assert.match(String(description.subtitle), /operation/);
		assert.match(String(description.subtitle), /resource/);
	});

	test('resources and operations', () => {
		const resources = description.properties.find((p) => p.name === 'resource');
		assert.deepEqual(
			((resources?.options ?? []) as INodePropertyOptions[]).map((o) => o.value).sort(),
			['account', 'chatRecord', 'message', 'session'],
		);
		assert.deepEqual(operationsOf('account').sort(), [
			'create',
			'delete',
			'getAll',
			'getOnline',
			'invite',
			'setAvatar',
			'update',
		]);
		assert.deepEqual(operationsOf('message').sort(), ['getMedia', 'reply', 'send', 'typing']);
		assert.deepEqual(operationsOf('session').sort(), ['close', 'create', 'get', 'getAll', 'getWaiting']);
		assert.deepEqual(operationsOf('chatRecord'), ['getAll']);
	});

	const expectedParameters: Array<[string, string, string[]]> = [
		['account', 'create', ['kfAccount', 'nickname']],
		['account', 'update', ['kfAccount', 'nickname']],
		['account', 'delete', ['kfAccount']],
		['account', 'getAll', ['returnAll', 'limit']],
		['account', 'getOnline', ['returnAll', 'limit']],
		['account', 'invite', ['kfAccount', 'inviteWx']],
		['account', 'setAvatar', ['kfAccount', 'binaryPropertyName']],
		[
			'message',
			'send',
			[
				'openId',
				'msgType',
				'content',
				'mediaSource',
				'mediaId',
				'binaryPropertyName',
				'thumbMediaId',
				'title',
				'description',
				'musicUrl',
				'hqMusicUrl',
				'url',
				'picUrl',
				'articleId',
				'headContent',
				'menuItems',
				'tailContent',
				'cardId',
				'appId',
				'pagePath',
				'additionalFields',
			],
		],
		['message', 'reply', ['replyType', 'content', 'mediaSource', 'mediaId', 'binaryPropertyName', 'kfAccount']],
		['message', 'typing', ['openId', 'command']],
		['message', 'getMedia', ['mediaId', 'binaryPropertyName']],
		['session', 'create', ['kfAccount', 'openId']],
		['session', 'close', ['kfAccount', 'openId']],
		['session', 'get', ['openId']],
		['session', 'getAll', ['kfAccount']],
		['session', 'getWaiting', ['returnAll', 'limit']],
		['chatRecord', 'getAll', ['rangeType', 'startTime', 'endTime', 'returnAll', 'limit', 'firstRunStart']],
	];
	for (const [resource, operation, names] of expectedParameters) {
		test(`${resource}.${operation} has ${names.join(', ')}`, () => {
			const present = parametersOf(resource, operation);
			for (const name of names) assert.ok(present.includes(name), `${resource}.${operation} lacks ${name}`);
		});
	}

	test('round 2: chat-record Range Type (custom by default, sinceLastRun) and Get Media\'s binary property (data by default)', () => {
		const rangeType = description.properties.find((p) => p.name === 'rangeType');
		assert.deepEqual(
			((rangeType?.options ?? []) as INodePropertyOptions[]).map((o) => o.value),
			['custom', 'sinceLastRun'],
		);
		assert.equal(rangeType?.default, 'custom');
		const firstRunStart = description.properties.find((p) => p.name === 'firstRunStart');
		assert.deepEqual(firstRunStart?.displayOptions?.show?.rangeType, ['sinceLastRun']);
		const mediaProperty = description.properties.find(
			(p) => p.name === 'binaryPropertyName' && p.displayOptions?.show?.operation?.includes('getMedia'),
		);
		assert.equal(mediaProperty?.default, 'data');
	});

	test('every msgType of the contract, and the media sources', () => {
		const msgType = description.properties.find((p) => p.name === 'msgType');
		assert.deepEqual(
			((msgType?.options ?? []) as INodePropertyOptions[]).map((o) => o.value).sort(),
			[
				'image',
				'miniprogrampage',
				'mpnews',
				'mpnewsarticle',
				'msgmenu',
				'music',
				'news',
				'text',
				'video',
				'voice',
				'wxcard',
			],
		);
		const mediaSource = description.properties.find((p) => p.name === 'mediaSource');
		assert.deepEqual(
			((mediaSource?.options ?? []) as INodePropertyOptions[]).map((o) => o.value).sort(),
			['binary', 'mediaId'],
		);
		const command = description.properties.find((p) => p.name === 'command');
		assert.deepEqual(
			((command?.options ?? []) as INodePropertyOptions[]).map((o) => o.value).sort(),
			['CancelTyping', 'Typing'],
		);
	});

	test('pickers of existing accounts are resource locators with list and id modes; send-as sits in additionalFields', () => {
		const locators = description.properties.filter((p) => p.name === 'kfAccount' && p.type === 'resourceLocator');
		assert.equal(locators.length, 3, 'one picker each for Account, Session and the agent of Message → Reply');
		for (const locator of locators) {
			assert.deepEqual(
				locator.modes?.map((mode) => mode.name),
				['list', 'id'],
			);
		}
		const additionalFields = description.properties.find(
			(p) => p.name === 'additionalFields' && p.displayOptions?.show?.operation?.includes('send'),
		);
		const sendAs = (additionalFields?.options as INodeProperties[] | undefined)?.find((o) => o.name === 'kfAccount');
		assert.equal(sendAs?.type, 'resourceLocator');
	});

	test('round 2: Message → Reply: replyType text (default), image, voice, transferToCustomerService; the agent kfAccount', () => {
		const replyType = description.properties.find((p) => p.name === 'replyType');
		assert.deepEqual(
			((replyType?.options ?? []) as INodePropertyOptions[]).map((o) => o.value).sort(),
			['image', 'text', 'transferToCustomerService', 'voice'],
		);
		assert.equal(replyType?.default, 'text');
		const agent = description.properties.find(
			(p) => p.name === 'kfAccount' && p.displayOptions?.show?.operation?.includes('reply'),
		);
		assert.deepEqual(agent?.displayOptions?.show?.replyType, ['transferToCustomerService']);
		assert.equal(agent?.type, 'resourceLocator');
		assert.equal(agent?.required, false);
		const replySources = description.properties.filter(
			(p) => p.name === 'mediaSource' && p.displayOptions?.show?.operation?.includes('reply'),
		);
		assert.deepEqual(
			replySources.flatMap((p) => (p.options as INodePropertyOptions[]).map((o) => o.value)).sort(),
			['binary', 'mediaId'],
		);
	});

	test('Get Many operations default to a limit of 50', () => {
		for (const limit of description.properties.filter((p) => p.name === 'limit')) {
			assert.equal(limit.default, 50);
		}
	});
});
