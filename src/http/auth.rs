//! Bearer-token authentication. Every route except the health checks needs a token that has
//! neither expired nor been revoked.
use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::app::AppState;
use crate::domain::{api_token, case_access};
use crate::error::AppError;
use crate::identity::Actor;

/// The authenticated caller.
pub struct SignedIn(pub Actor);

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let token = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let asked = super::language::asked_for(req);
        let req = req.clone();
        Box::pin(async move {
            let token = token
                .filter(|t| !t.is_empty())
                .ok_or(AppError::Unauthorized)?;
            let state = state.ok_or_else(|| AppError::Internal("state missing".into()))?;
            let actor = web::block(move || -> Result<Option<Actor>, AppError> {
                let mut conn = state.pool.get()?;
                let now = state.services.now();
                match api_token::user_of(&mut conn, &token, now.naive_utc())? {
                    Some(user) => Ok(Some(case_access::with_break_glass(
                        &mut conn,
                        user.actor()?,
                        now,
                    )?)),
                    None => Ok(None),
                }
            })
            .await??;
            let mut actor = actor.ok_or(AppError::Unauthorized)?;
            req.extensions_mut()
                .insert(super::language::SavedLanguage(actor.language));
            if let Some(lang) = asked {
                actor.language = lang;
            }
            Ok(SignedIn(actor))
        })
    }
}
