// n8n's own lint rules for community nodes (the same config `n8n-node lint` uses).
import { config } from '@n8n/node-cli/eslint';

export default config;
