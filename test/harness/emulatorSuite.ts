import { after, before, beforeEach } from 'node:test';

import { resetAccessTokenCacheForTests } from '../../nodes/shared/accessToken/obtain';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/server';
import { engineServicesReady } from './services';

/**
 * One emulator per test file, and a clean start for every test: empty emulator state, no token in it and none in
 * this process's token cache. `started` hands the emulator to the file; hooks a file registers after this call run
 * after the reset (node:test runs hooks in the order they were registered).
 */
export function useEmulator(started: (emulator: Emulator) => void, options: EmulatorOptions = {}): void {
	let emulator: Emulator | undefined;
	before(async () => {
		await engineServicesReady();
		emulator = await startEmulator(options);
		started(emulator);
	});
	after(async () => await emulator?.close());
	beforeEach(() => {
		emulator?.reset();
		resetAccessTokenCacheForTests();
	});
}
