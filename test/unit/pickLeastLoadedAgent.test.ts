import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { pickLeastLoadedAgent } from '../../nodes/WeChatCustomerService/resources/session/pickLeastLoadedAgent';

describe('pickLeastLoadedAgent', () => {
	test('fewest accepted_case among status ≠ 0, first listed on a tie', () => {
		assert.deepEqual(
			pickLeastLoadedAgent([
				{ kf_account: 'a@oa', status: 1, accepted_case: 4 },
				{ kf_account: 'b@oa', status: 0, accepted_case: 0 },
				{ kf_account: 'c@oa', status: 3, accepted_case: 2 },
				{ kf_account: 'd@oa', status: 1, accepted_case: 2 },
			]),
			{ kf_account: 'c@oa', accepted_case: 2 },
		);
	});

	test('an entry without accepted_case counts as serving nobody (WeChat always sends it; older lists may not)', () => {
		assert.deepEqual(
			pickLeastLoadedAgent([
				{ kf_account: 'busy@oa', status: 1, accepted_case: 1 },
				{ kf_account: 'unknown@oa', status: 1 },
			]),
			{ kf_account: 'unknown@oa', accepted_case: 0 },
		);
		assert.deepEqual(
			pickLeastLoadedAgent([
				{ kf_account: 'odd@oa', status: 1, accepted_case: 'many' },
				{ kf_account: 'one@oa', status: 1, accepted_case: 1 },
			]),
			{ kf_account: 'odd@oa', accepted_case: 0 },
		);
	});

	test('nobody online, an empty list or no list: undefined', () => {
		assert.equal(pickLeastLoadedAgent([{ kf_account: 'b@oa', status: 0, accepted_case: 0 }]), undefined);
		assert.equal(pickLeastLoadedAgent([]), undefined);
		assert.equal(pickLeastLoadedAgent(undefined), undefined);
	});
});
