// The least environment loadConfig accepts (a fresh RSA key included), for tests of one setting.
import { rsaKeyPair } from '../../../test/support/keys.ts';

const { privateKey } = rsaKeyPair();

/** Every required variable, then `o` on top. */
export const requiredEnv = (o: Record<string, string> = {}): Record<string, string> => ({
  SF_CLIENT_ID: 'key',
  SF_USERNAME: 'integration@example.com',
  SF_PRIVATE_KEY: privateKey,
  DIDOMI_WEBHOOK_CLIENT_ID: 'didomi',
  DIDOMI_WEBHOOK_CLIENT_SECRET: 'a-long-client-secret',
  WEBHOOK_TOKEN_SECRET: 'x'.repeat(32),
  ...o,
});
