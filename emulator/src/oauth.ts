// OAuth 2.0 JWT bearer flow (reference/salesforce.md "OAuth 2.0 JWT bearer flow"): verifies the
// RS256 assertion against the app's certificate and every claim, answering Salesforce's bodies.
import { randomBytes, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Org, User } from './org.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** How far ahead `exp` may be: Salesforce asks for at most ~3 minutes; a little leeway for clock skew. */
export const MAX_EXP_AHEAD_SECONDS = 300;

export interface Session {
  token: string;
  user: User;
  expiresAt: number;
}

export function publicKeyFrom(pem: string): KeyObject {
  return pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
}

export type TokenResult = { status: 200; body: Record<string, string> } | { status: 400; body: { error: string; error_description: string } };

const fail = (error: string, error_description: string): TokenResult => ({ status: 400, body: { error, error_description } });

export class OAuthServer {
  readonly sessions = new Map<string, Session>();
  private readonly org: Org;
  private readonly opts: {
    consumerKey: string;
    publicKey: KeyObject;
    audiences: () => string[];
    sessionSeconds: number;
    instanceUrl: () => string;
    now?: () => number;
    /** The app's "Admin approved users are pre-authorized" policy: the permission sets and profiles it lists. */
    preAuthorized: { permissionSets: string[]; profiles: string[] };
  };
  private readonly now: () => number;
  constructor(org: Org, opts: OAuthServer['opts']) {
    this.org = org;
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  token(form: Record<string, unknown>): TokenResult {
    if (form.grant_type !== JWT_BEARER) return fail('unsupported_grant_type', 'grant type not supported');
    const assertion = typeof form.assertion === 'string' ? form.assertion : '';
    const decoded = jwt.decode(assertion, { complete: true });
    if (!decoded || typeof decoded.payload !== 'object') return fail('invalid_grant', 'invalid assertion');
    const claims = decoded.payload as jwt.JwtPayload;
    if (decoded.header.alg !== 'RS256') return fail('invalid_grant', 'invalid assertion');
    if (claims.iss !== this.opts.consumerKey) return fail('invalid_client_id', 'client identifier invalid');
    try {
      jwt.verify(assertion, this.opts.publicKey, { algorithms: ['RS256'], ignoreExpiration: true });
    } catch {
      return fail('invalid_grant', 'invalid assertion');
    }
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (aud.length !== 1 || !this.opts.audiences().includes(String(aud[0]).replace(/\/$/, ''))) return fail('invalid_grant', 'audience is invalid');
    const now = Math.floor(this.now() / 1000);
    if (typeof claims.exp !== 'number') return fail('invalid_grant', 'invalid assertion');
    if (claims.exp < now) return fail('invalid_grant', 'expired authorization code');
    if (claims.exp > now + MAX_EXP_AHEAD_SECONDS) return fail('invalid_grant', 'invalid assertion'); // e.g. milliseconds instead of seconds
    const user = this.org.users.get(String(claims.sub ?? '').toLowerCase());
    if (!user) return fail('invalid_grant', "user hasn't approved this consumer");
    if (!user.active) return fail('invalid_grant', 'inactive user');
    // The JWT bearer flow needs prior approval: a user outside the app's pre-authorized permission sets and profiles is refused.
    const pre = this.opts.preAuthorized;
    if (!pre.profiles.includes(user.profile) && !user.permissionSets.some((p) => pre.permissionSets.includes(p)))
      return fail('invalid_grant', "user hasn't approved this consumer");
    const token = '00D5g000000EMUL!' + randomBytes(48).toString('base64url');
    this.sessions.set(token, { token, user, expiresAt: this.now() + this.opts.sessionSeconds * 1000 });
    const url = this.opts.instanceUrl();
    return {
      status: 200,
      body: { access_token: token, scope: 'api', instance_url: url, id: `${url}/id/00D5g000000EMULAAA/${user.id}`, token_type: 'Bearer' },
    };
  }

  /** The session behind an Authorization header, or null when missing, expired or revoked. */
  session(authorization: string | undefined): Session | null {
    const m = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(authorization ?? '');
    const s = m ? this.sessions.get(m[1].trim()) : undefined;
    if (!s) return null;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(s.token);
      return null;
    }
    return s;
  }

  revokeAll(): number {
    const n = this.sessions.size;
    this.sessions.clear();
    return n;
  }
}
