import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { NodeHelpers, type INode, type INodeParameters } from 'n8n-workflow';

import { WeChatCustomerService } from '../../nodes/WeChatCustomerService/WeChatCustomerService.node.ts';

/**
 * Which fields n8n shows for Message → Send and Message → Reply, which share Text and Media ID, asked of n8n's own
 * functions in both ways n8n reads display rules: getNodeParameters (what is stored and what the engine uses) reads
 * every missing parameter at its default, so Send sees replyType "text" and Reply sees msgType "text"; the editor
 * then checks each field against the stored parameters, where those are absent. Both must agree.
 */
const description = new WeChatCustomerService().description;

const MEDIA_AND_TEXT = ['content', 'mediaSource', 'binaryPropertyName', 'mediaId', 'kfAccount', 'msgType', 'replyType'];

function shown(parameters: INodeParameters): string[] {
	const node: INode = {
		id: 'n',
		name: 'WeChat Customer Service',
		type: 'n8n-nodes-wechat-customer-service.weChatCustomerService',
		typeVersion: 1,
		position: [0, 0],
		parameters,
	};
	const stored = NodeHelpers.getNodeParameters(description.properties, parameters, true, false, node, description) ?? {};
	const kept = Object.keys(stored).filter((name) => MEDIA_AND_TEXT.includes(name));
	const inEditor = description.properties
		.filter((property) => MEDIA_AND_TEXT.includes(property.name))
		.filter((property) => NodeHelpers.displayParameter(stored, property, node, description))
		.map((property) => property.name);
	assert.deepEqual([...new Set(inEditor)].sort(), [...kept].sort(), 'the editor shows what n8n keeps');
	return kept;
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
	test('transfer: the agent, nothing else', () =>
		assert.deepEqual(reply({ replyType: 'transferToCustomerService' }), ['replyType', 'kfAccount']));
});

test('Get Media keeps its own Media ID and binary field', () =>
	assert.deepEqual(shown({ resource: 'message', operation: 'getMedia' }), ['mediaId', 'binaryPropertyName']));
