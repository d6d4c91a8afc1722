import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { labelOpercode } from '../../nodes/WeChatCustomerService/resources/chatRecord/opercodes';

describe('labelOpercode', () => {
	test('known codes in English and Chinese; unknown ones "unknown"', () => {
		assert.deepEqual(labelOpercode(2002), { en: 'Agent sent a message', zh: '客服发送消息' });
		assert.deepEqual(labelOpercode('2003'), { en: 'Agent received a message', zh: '客服收到消息' });
		assert.deepEqual(labelOpercode(1000), { en: 'Session created, waiting to be accepted', zh: '创建未接入会话' });
		assert.deepEqual(labelOpercode(9999), { en: 'unknown', zh: '未知' });
		assert.deepEqual(labelOpercode(undefined), { en: 'unknown', zh: '未知' });
	});
});
