import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { NodeHelpers, type INode, type INodeParameters } from 'n8n-workflow';

import { WeChatCustomerService } from '../../nodes/WeChatCustomerService/WeChatCustomerService.node.ts';

/**
 * Which fields n8n shows for Message → Send and Message → Reply, which share Text and Media ID. n8n decides with every
 * missing parameter at its default (Send sees replyType "text", Reply sees msgType "text"), which a display rule can
 * easily get wrong; this asks n8n's own function, as the editor and the engine do.
 */
const description = new WeChatCustomerService().description;

const MEDIA_AND_TEXT = ['content', 'mediaSource', 'binaryPropertyName', 'mediaId', 'transferOptions', 'msgType', 'replyType'];

function shown(parameters: INodeParameters): string[] {
	const node: INode = {
		id: 'n',
		name: 'WeChat Customer Service',
		type: 'n8n-nodes-wechat-customer-service.weChatCustomerService',
		typeVersion: 1,
		position: [0, 0],
		parameters,
	};
	const values = NodeHelpers.getNodeParameters(description.properties, parameters, true, false, node, description) ?? {};
	return Object.keys(values).filter((name) => MEDIA_AND_TEXT.includes(name));
}

const send = (parameters: INodeParameters) => shown({ resource: 'message', operation: 'send', ...parameters });
const reply = (parameters: INodeParameters) => shown({ resource: 'message', operation: 'reply', ...parameters });

describe('Message → Send shows what it did before Reply shared its fields', () => {
	test('text', () => assert.deepEqual(send({ msgType: 'text' }), ['msgType', 'content']));
	test('image from binary (the default source)', () =>
		assert.deepEqual(send({ msgType: 'image' }), ['msgType', 'mediaSource', 'binaryPropertyName']));
	test('voice by media_id', () =>
		assert.deepEqual(send({ msgType: 'voice', mediaSource: 'mediaId' }), ['msgType', 'mediaSource', 'mediaId']));
	test('video by media_id', () =>
		assert.deepEqual(send({ msgType: 'video', mediaSource: 'mediaId', thumbSource: 'mediaId' }), [
			'msgType',
			'mediaSource',
			'mediaId',
		]));
	test('mpnews: its own Media ID', () => assert.deepEqual(send({ msgType: 'mpnews' }), ['msgType', 'mediaId']));
	test('news: none of them', () => assert.deepEqual(send({ msgType: 'news' }), ['msgType']));
});

describe('Message → Reply', () => {
	test('text (the default)', () => assert.deepEqual(reply({}), ['replyType', 'content']));
	test('image from binary (the default source)', () =>
		assert.deepEqual(reply({ replyType: 'image' }), ['replyType', 'mediaSource', 'binaryPropertyName']));
	test('voice by media_id', () =>
		assert.deepEqual(reply({ replyType: 'voice', mediaSource: 'mediaId' }), ['replyType', 'mediaSource', 'mediaId']));
	test('transfer: the options with the agent, nothing else', () =>
		assert.deepEqual(reply({ replyType: 'transferToCustomerService' }), ['replyType', 'transferOptions']));
});

test('Get Media keeps its own Media ID and binary field', () =>
	assert.deepEqual(shown({ resource: 'message', operation: 'getMedia' }), ['mediaId', 'binaryPropertyName']));
