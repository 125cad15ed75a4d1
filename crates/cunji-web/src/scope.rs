//! A village named in a request's path, parsed and checked against the user's scope in the same step
//! that signs the user in (as lldap's handlers receive a store handle only through the permission
//! check): a handler that takes [`InVillage`] or [`InVillageYear`] cannot forget the scope, and cannot
//! read the raw path text, which once carried a CR/LF into a write.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use cunji_core::region::RegionCode;

use crate::auth::{AuthRejection, CountyAdmin, TownshipOfficer, User, Viewer, Writer};
use crate::state::AppState;

/// A role extractor: who the signed-in user is, once their role was checked.
pub trait RoleOf: FromRequestParts<AppState, Rejection = AuthRejection> + Send {
    fn user(&self) -> &User;
}

macro_rules! role_of {
    ($($t:ident),*) => {$(
        impl RoleOf for $t {
            fn user(&self) -> &User {
                &self.0
            }
        }
    )*};
}
role_of!(Viewer, Writer, CountyAdmin, TownshipOfficer);

/// The village of a `{code}` path, within the scope of a user of role `R`.
pub struct InVillage<R> {
    role: R,
    code: RegionCode,
}

impl<R: RoleOf> InVillage<R> {
    pub fn user(&self) -> &User {
        self.role.user()
    }

    pub fn code(&self) -> &RegionCode {
        &self.code
    }
}

impl<R: RoleOf> FromRequestParts<AppState> for InVillage<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let role = R::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(params) =
            Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
        let text = params.get("code").map(String::as_str).unwrap_or_default();
        let code = crate::html::strict_code(text).map_err(|e| refuse(parts, e))?;
        role.user()
            .require_read(&code)
            .map_err(|d| refuse(parts, d.into()))?;
        Ok(InVillage { role, code })
    }
}

/// The village and year of a `{code}/{year}` path, within the scope of a user of role `R`.
pub struct InVillageYear<R> {
    village: InVillage<R>,
    year: i32,
}

impl<R: RoleOf> InVillageYear<R> {
    pub fn user(&self) -> &User {
        self.village.user()
    }

    pub fn code(&self) -> &RegionCode {
        self.village.code()
    }

    pub fn year(&self) -> i32 {
        self.year
    }
}

impl<R: RoleOf> FromRequestParts<AppState> for InVillageYear<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let village = InVillage::<R>::from_request_parts(parts, state).await?;
        let Path(params) =
            Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
        let text = params.get("year").map(String::as_str).unwrap_or_default();
        let year = text
            .parse::<i32>()
            .ok()
            .filter(|y| crate::state::YEARS.contains(y))
            .ok_or_else(|| {
                let e =
                    crate::html::bad_request(format!("年度 `{text}` 应为 1900–2999 的四位年份"));
                refuse(parts, e)
            })?;
        Ok(InVillageYear { village, year })
    }
}

/// A refused path: a page for the pages, JSON for the API.
fn refuse(parts: &Parts, e: crate::html::WebError) -> Response {
    if parts.uri.path().starts_with("/api/") {
        crate::api_error::ApiError::from(e).into_response()
    } else {
        e.into_response()
    }
}
