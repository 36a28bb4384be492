//! OpenID Connect with the council's identity provider, through the `openidconnect` crate:
//! the authorisation code flow with PKCE and a nonce, and an ID token checked for its issuer,
//! audience, signature, expiry and nonce, then for the tenant it was issued in. The provider's
//! metadata and keys are fetched when first needed and kept; its HTTP calls go through ureq and
//! follow no redirects. Nothing here stores anything: the caller keeps what a sign-in started.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields,
    IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};

/// Single sign-on as configured: one issuer per tenant.
#[derive(Clone)]
pub struct SingleSignOnConfig {
    /// Each from `SAFEGUARD_OIDC_ISSUER`, with `{tenant}` standing for each of
    /// `SAFEGUARD_OIDC_TENANTS` where several are listed. Never a multi-tenant `/common` one.
    pub tenants: Vec<Tenant>,
    pub client_id: String,
    pub client_secret: String,
    /// The claim that holds the invited person's email address: `email`, or Entra's
    /// `preferred_username`.
    pub claim: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// The tenant's id, which a token's `tid` claim must match when it has one; none where no
    /// tenant is listed.
    pub id: Option<String>,
    pub issuer: String,
}

impl std::fmt::Debug for SingleSignOnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleSignOnConfig")
            .field("tenants", &self.tenants)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("claim", &self.claim)
            .finish()
    }
}

/// The tenant claim Microsoft Entra ID puts in its tokens.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TenantClaim {
    #[serde(default)]
    pub tid: Option<String>,
}
impl AdditionalClaims for TenantClaim {}

type TokenFields = IdTokenFields<
    TenantClaim,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<TokenFields, CoreTokenType>;
type TenantClient = Client<
    TenantClaim,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a sign-in with the provider did not give a person.
#[derive(Debug, thiserror::Error)]
pub enum SingleSignOnError {
    #[error("the identity provider could not be reached or refused: {0}")]
    Provider(String),
    #[error("the ID token did not verify: {0}")]
    Token(String),
    #[error("the account belongs to another tenant")]
    WrongTenant,
    #[error("the ID token has no {0} claim")]
    NoClaim(String),
    #[error("the provider does not say the email address is verified")]
    Unverified,
}

/// How long discovered metadata and keys are kept before they are fetched again; a token that
/// fails to verify fetches them at once, since providers rotate their signing keys.
const KEEP_METADATA: Duration = Duration::from_secs(24 * 60 * 60);

/// What the browser is sent to, and what must be kept until it comes back.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The identity providers of the configured tenants.
pub struct Providers {
    config: SingleSignOnConfig,
    redirect: RedirectUrl,
    agent: ureq::Agent,
    clients: Mutex<HashMap<usize, (Instant, Arc<TenantClient>)>>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("config", &self.config)
            .finish()
    }
}

impl Providers {
    /// `redirect` is the service's callback address, as registered with the provider.
    pub fn new(config: SingleSignOnConfig, redirect: &str) -> Result<Providers, String> {
        Ok(Providers {
            redirect: RedirectUrl::new(redirect.to_string()).map_err(|e| e.to_string())?,
            agent: ureq::AgentBuilder::new()
                .redirects(0)
                .timeout(Duration::from_secs(10))
                .build(),
            clients: Mutex::new(HashMap::new()),
            config,
        })
    }

    pub fn tenants(&self) -> &[Tenant] {
        &self.config.tenants
    }

    /// The tenant's client, from its discovered metadata: kept for a day, or fetched again
    /// at once when `fresh`.
    fn client(&self, tenant: usize, fresh: bool) -> Result<Arc<TenantClient>, SingleSignOnError> {
        if !fresh {
            let kept = self
                .clients
                .lock()
                .ok()
                .and_then(|m| m.get(&tenant).cloned());
            if let Some((_, c)) = kept.filter(|(at, _)| at.elapsed() < KEEP_METADATA) {
                return Ok(c);
            }
        }
        let t = self
            .config
            .tenants
            .get(tenant)
            .ok_or_else(|| SingleSignOnError::Provider("no such tenant".into()))?;
        let issuer = IssuerUrl::new(t.issuer.clone())
            .map_err(|e| SingleSignOnError::Provider(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover(&issuer, &self.agent)
            .map_err(|e| SingleSignOnError::Provider(chain(&e)))?;
        let client: TenantClient = Client::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone());
        let client = Arc::new(client);
        if let Ok(mut m) = self.clients.lock() {
            m.insert(tenant, (Instant::now(), client.clone()));
        }
        Ok(client)
    }

    /// Where to send the browser to sign in with tenant `tenant`.
    pub fn begin(&self, tenant: usize) -> Result<Started, SingleSignOnError> {
        let client = self.client(tenant, false)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code the browser brought back and checks the ID token; returns the value
    /// of the configured claim (lower-cased), which names the invited person.
    pub fn finish(
        &self,
        tenant: usize,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<String, SingleSignOnError> {
        let client = self.client(tenant, false)?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| SingleSignOnError::Provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request(&self.agent)
            .map_err(|e| SingleSignOnError::Provider(chain(&e)))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| SingleSignOnError::Token("no ID token in the answer".into()))?;
        let nonce = Nonce::new(nonce.to_string());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            // Perhaps signed with a key the provider has rotated in since: fetch its keys again.
            Err(_) => {
                let fresh = self.client(tenant, true)?;
                let verifier = fresh.id_token_verifier();
                let claims = id_token
                    .claims(&verifier, &nonce)
                    .map_err(|e| SingleSignOnError::Token(e.to_string()))?
                    .clone();
                claims
            }
        };
        if let Some(expected) = &self.config.tenants[tenant].id {
            if claims.additional_claims().tid.as_deref() != Some(expected.as_str()) {
                return Err(SingleSignOnError::WrongTenant);
            }
        }
        let value = match self.config.claim.as_str() {
            "preferred_username" => claims.preferred_username().map(|u| u.as_str().to_string()),
            _ => {
                // An address the provider has not verified could be anyone's.
                if claims.email_verified() != Some(true) {
                    return Err(SingleSignOnError::Unverified);
                }
                claims.email().map(|e| e.as_str().to_string())
            }
        };
        value
            .map(|v| v.trim().to_lowercase())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| SingleSignOnError::NoClaim(self.config.claim.clone()))
    }
}

/// An error with its causes, which the crate's errors keep apart ("Request failed: …").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}
