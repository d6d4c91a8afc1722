import {
	ICredentialsHelper,
	NodeHelpers,
	type ICredentialDataDecryptedObject,
	type ICredentialType,
	type IHttpRequestHelper,
	type IHttpRequestOptions,
	type INode,
	type INodeCredentialsDetails,
	type INodeParameters,
	type INodeProperties,
} from 'n8n-workflow';
import { Credentials } from 'n8n-core';

/**
 * An in-memory stand-in for n8n's CredentialsHelper (packages/cli/src/credentials-helper.ts in n8n 2.41), keeping the
 * behaviour the token layer depends on:
 * - getDecrypted returns a fresh copy with the type's defaults applied, as a database read would;
 * - preAuthentication runs the credential's preAuthentication only when the first hidden `expirable` property is '',
 *   when n8n says the credential expired (after an HTTP 401), or for a credential test; it saves what comes back;
 * - authenticate hands the request options object itself to the credential's authenticate function.
 */
export class InMemoryCredentialsHelper extends ICredentialsHelper {
	private readonly stored = new Map<string, ICredentialDataDecryptedObject>();

	/** Every time n8n asked the credential for a token (not the same as token requests to WeChat). */
	preAuthenticationCalls = 0;

	constructor(private readonly types: Record<string, ICredentialType>) {
		super();
	}

	set(id: string, data: ICredentialDataDecryptedObject): void {
		this.stored.set(id, { ...data });
	}

	/** The data as saved (what the next execution, or another n8n process, would read). */
	get(id: string): ICredentialDataDecryptedObject {
		return { ...(this.stored.get(id) ?? {}) };
	}

	getParentTypes(): string[] {
		return [];
	}

	getCredentialsProperties(type: string): INodeProperties[] {
		return this.typeOf(type).properties;
	}

	private typeOf(type: string): ICredentialType {
		const credentialType = this.types[type];
		if (!credentialType) throw new Error(`Unknown credential type ${type}`);
		return credentialType;
	}

	async getDecrypted(
		_additionalData: unknown,
		nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentialDataDecryptedObject> {
		const data = this.stored.get(String(nodeCredentials.id));
		if (!data) throw new Error(`No credential with id ${nodeCredentials.id}`);
		return NodeHelpers.getNodeParameters(
			this.typeOf(type).properties,
			{ ...data } as INodeParameters,
			true,
			false,
			null,
			null,
		) as ICredentialDataDecryptedObject;
	}

	async getCredentials(nodeCredentials: INodeCredentialsDetails, type: string): Promise<Credentials> {
		return new Credentials({ id: nodeCredentials.id, name: nodeCredentials.name }, type);
	}

	async updateCredentials(
		nodeCredentials: INodeCredentialsDetails,
		_type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		this.stored.set(String(nodeCredentials.id), { ...data });
	}

	async updateCredentialsOauthTokenData(): Promise<void> {}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const credentialType = this.typeOf(typeName);
		if (typeof credentialType.authenticate === 'function') {
			return await credentialType.authenticate(credentials, requestOptions);
		}
		return requestOptions;
	}

	async preAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		node: INode,
		credentialsExpired: boolean,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const credentialType = this.typeOf(typeName);
		const expirable = credentialType.properties.find(
			(property) => property.type === 'hidden' && property.typeOptions?.expirable === true,
		);
		if (!expirable || typeof credentialType.preAuthentication !== 'function') return undefined;
		const isTestingCredentials = node?.parameters?.temp === '' && node?.type === 'n8n-nodes-base.noOp';
		if (credentials[expirable.name] !== '' && !credentialsExpired && !isTestingCredentials) return undefined;

		this.preAuthenticationCalls++;
		const output = await credentialType.preAuthentication.call(helpers, credentials);
		if (output[expirable.name] === undefined) return undefined;
		if (node.credentials) {
			await this.updateCredentials(
				node.credentials[credentialType.name],
				credentialType.name,
				Object.assign(credentials, output),
			);
			return Object.assign(credentials, output);
		}
		return undefined;
	}

	async runPreAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const credentialType = this.typeOf(typeName);
		if (typeof credentialType.preAuthentication !== 'function') return undefined;
		return (await credentialType.preAuthentication.call(helpers, credentials)) as ICredentialDataDecryptedObject;
	}

	isCredentialUsableByNode(): boolean {
		return true;
	}
}
