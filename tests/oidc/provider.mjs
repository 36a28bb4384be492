// A real OpenID Connect provider for the tests (the oidc-provider package), on loopback. It
// prints its issuer, then serves until killed. The tests' own login step stands in for the
// provider's login page: GET /interaction/{uid}?login=<email>&tid=<tenant> signs that account
// in. Consent is taken as given, as for a council's own application.
import http from 'node:http';
import Provider from 'oidc-provider';

const redirect = process.env.REDIRECT_URI;
const secret = process.env.CLIENT_SECRET;
const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'safeguard',
      client_secret: secret,
      redirect_uris: [redirect],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['tests-only-cookie-key'] },
    claims: { openid: ['sub', 'tid'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false,
    async findAccount(ctx, id) {
      const [email, tid] = id.split('|');
      return {
        accountId: id,
        async claims() {
          return { sub: id, email, email_verified: true, name: email, ...(tid ? { tid } : {}) };
        },
      };
    },
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();
  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    if (url.pathname.startsWith('/interaction/')) {
      try {
        const login = url.searchParams.get('login') || '';
        const tid = url.searchParams.get('tid') || '';
        await provider.interactionFinished(req, res,
          { login: { accountId: `${login}|${tid}` } }, { mergeWithLastSubmission: false });
      } catch (e) {
        res.statusCode = 500;
        res.end(String(e));
      }
      return;
    }
    callback(req, res);
  });
  console.log(`issuer ${issuer}`);
});
