// An RSA key pair for the JWT bearer flow, made with Node's crypto (no openssl needed).
import { generateKeyPairSync } from 'node:crypto';

export function rsaKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}
