import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { KeySource } from '../domain/auth/stores';
import { keyFromSeed, type SigningKey } from '../domain/auth/tokens';

/** How long a container trusts the keys it read; a rotation reaches every container within this. */
const CACHE_MS = 5 * 60_000;

/**
 * Signing keys from the seed secret: AWSCURRENT signs, AWSCURRENT and AWSPREVIOUS verify. Read
 * once per container and refreshed every five minutes.
 */
export class SecretsKeySource implements KeySource {
  private cached: { at: number; keys: Promise<SigningKey[]> } | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async current(): Promise<SigningKey> {
    const [current] = await this.all();
    if (!current) throw new Error('The signing secret has no current value');
    return current;
  }

  all(): Promise<SigningKey[]> {
    const now = this.clock();
    if (!this.cached || now - this.cached.at > CACHE_MS) {
      const keys = this.load();
      this.cached = { at: now, keys };
      keys.catch(() => {
        this.cached = undefined;
      });
    }
    return this.cached.keys;
  }

  private async load(): Promise<SigningKey[]> {
    const [current, previous] = await Promise.all([this.read('AWSCURRENT'), this.read('AWSPREVIOUS')]);
    if (current === undefined) throw new Error('The signing secret has no current value');
    return [current, previous]
      .filter((seed): seed is string => seed !== undefined && seed !== '')
      .map((seed) => keyFromSeed(seed));
  }

  private async read(stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<string | undefined> {
    try {
      const { SecretString } = await this.client.send(
        new GetSecretValueCommand({ SecretId: this.secretId, VersionStage: stage }),
      );
      return SecretString;
    } catch (error) {
      // A secret never rotated has no AWSPREVIOUS version.
      if (stage === 'AWSPREVIOUS' && error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }
}
