// A real OpenID provider for the single sign-on tests: the certified npm
// package `oidc-provider`, in this test process, on 127.0.0.1 and a free
// port (stopped with the process or by stop()). Its signing keys are made
// here, so a test can also forge tokens the provider never issued (a
// Koa middleware swaps the token endpoint's ID token: `forge`) and
// change the JWKS it publishes (`publish`): bad signatures, wrong
// audiences, expired tokens, key rotation.
import { createServer } from 'node:http';
import { createHash, generateKeyPairSync, sign as jwsSign } from 'node:crypto';
import Provider from 'oidc-provider';
import { freePort } from './server.mjs';

export function makeKey(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const pub = { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, use: 'sig', alg: 'RS256' };
  return { kid, privateKey, jwk: { ...jwk, kid, use: 'sig', alg: 'RS256' }, pub };
}

// An EC P-256 key (ES256).
export function makeEcKey(kid) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const pub = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, use: 'sig', alg: 'ES256' };
  return { kid, privateKey, pub, alg: 'ES256' };
}

const b64u = (b) => Buffer.from(b).toString('base64url');

// A compact JWS (RS256, or ES256 for an EC key) of 'claims' with 'key'
// (header kid: key.kid unless given).
export function signJwt(claims, key, kid = key.kid) {
  const alg = key.alg || 'RS256';
  const head = b64u(JSON.stringify({ alg, typ: 'JWT', kid }));
  const body = b64u(JSON.stringify(claims));
  const data = Buffer.from(`${head}.${body}`);
  const sig = alg === 'ES256'
    ? jwsSign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
    : jwsSign('sha256', data, key.privateKey);
  return `${head}.${body}.${b64u(sig)}`;
}

export function claimsOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

export class OidcProvider {
  // users: { name: [group, ...] }; redirect: textdesk's /sso/ URL.
  constructor({ users, clientId = 'textdesk', clientSecret = 'td-secret-0123456789', redirect }) {
    Object.assign(this, { users, clientId, clientSecret, redirect });
    this.key = makeKey('k1');
    this.forge = null;      // (claims) => id_token: replaces the issued one
    this.publish = null;    // { keys: [...] }: the JWKS served instead
    this.jwksFetches = 0;
  }

  async start() {
    this.port = await freePort();
    this.issuer = `http://127.0.0.1:${this.port}`;
    const users = this.users;
    const p = new Provider(this.issuer, {
      clients: [{
        client_id: this.clientId, client_secret: this.clientSecret, redirect_uris: [this.redirect],
        grant_types: ['authorization_code'], response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      }],
      jwks: { keys: [this.key.jwk] },
      claims: { openid: ['sub'], profile: ['preferred_username', 'groups'] },
      conformIdTokenClaims: false, // the ID token carries the profile claims
      pkce: { required: () => true },
      features: { devInteractions: { enabled: true } },
      async findAccount(ctx, sub) {
        return { accountId: sub, claims: async () => ({ sub, preferred_username: sub, groups: users[sub] || [] }) };
      },
    });
    p.on('server_error', (ctx, err) => console.error('oidc-provider:', err));
    p.use(async (ctx, next) => {
      if (ctx.path === '/jwks') { this.jwksFetches++; this.jwksAt = Date.now(); }
      if (ctx.path === '/jwks' && this.publish) { ctx.body = this.publish; ctx.type = 'application/jwk-set+json'; return; }
      await next();
      if (ctx.path === '/token' && this.forge && ctx.body && ctx.body.id_token)
        ctx.body = { ...ctx.body, id_token: this.forge(claimsOf(ctx.body.id_token)) };
    });
    this.server = createServer(p.callback());
    await new Promise((r) => this.server.listen(this.port, '127.0.0.1', r));
    return this;
  }

  async stop() {
    if (this.server) await new Promise((r) => this.server.close(r));
  }
}

// A browser of the API tests: cookies by name, redirects followed by hand.
export class Jar {
  constructor() { this.c = new Map(); }
  header() { return [...this.c].map(([k, v]) => `${k}=${v}`).join('; '); }
  take(res) {
    for (const sc of res.headers.getSetCookie()) {
      const [kv] = sc.split(';');
      const i = kv.indexOf('=');
      const k = kv.slice(0, i).trim(), v = kv.slice(i + 1);
      if (/max-age=0/i.test(sc) || v === '') this.c.delete(k); else this.c.set(k, v);
    }
  }
  async fetch(url, opts = {}) {
    const res = await fetch(url, { redirect: 'manual', ...opts, headers: { ...(opts.headers || {}), cookie: this.header() } });
    this.take(res);
    return res;
  }
}

function formOf(html) {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  const fields = {};
  for (const [tag] of html.matchAll(/<input[^>]*>/g)) {
    const name = /name="([^"]+)"/.exec(tag)?.[1];
    if (name) fields[name] = /value="([^"]*)"/.exec(tag)?.[1] || '';
  }
  return { action, fields };
}

// Signs 'user' in at the provider from the authorization URL textdesk gave,
// through the provider's own login and consent pages; returns the query
// the provider sends back to textdesk's /sso/ page (code, state, iss).
export async function providerLogin(jar, authUrl, user, redirect) {
  let url = authUrl, method = 'GET', body;
  for (let i = 0; i < 20; i++) {
    if (url.startsWith(redirect)) return Object.fromEntries(new URL(url).searchParams);
    const res = await jar.fetch(url, body ? { method, body, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : { method });
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location'), url).href; method = 'GET'; body = undefined;
      continue;
    }
    const html = await res.text();
    const f = formOf(html);
    if (!f.action) throw new Error(`provider page without a form (${res.status}): ${html.slice(0, 300)}`);
    if ('login' in f.fields) { f.fields.login = user; f.fields.password = 'any'; }
    url = new URL(f.action, url).href; method = 'POST';
    body = new URLSearchParams(f.fields).toString();
  }
  throw new Error('provider login did not come back');
}

export const pkceChallenge = (verifier) => createHash('sha256').update(verifier).digest('base64url');
