//! Page furniture: the layout every page extends, flash messages, error pages, and rendering.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::identity::User;

/// The signed-in user as the layout shows them.
pub struct UserView {
    pub display_name: String,
    pub role: &'static str,
    pub scope: Option<String>,
    pub csrf: String,
    pub can_write: bool,
}

/// The cookie that keeps a reader's choice of larger text on public pages.
pub const LARGE_TEXT_COOKIE: &str = "cunji_text";

pub struct Flash {
    pub kind: &'static str,
    pub text: String,
}

pub struct Layout {
    pub title: String,
    pub user: Option<UserView>,
    pub flash: Option<Flash>,
    /// Larger text (适老化), as the reader chose on a public page; remembered in a cookie.
    pub large: bool,
    /// The page's own address (percent-encoded), for the larger-text switch to return to.
    pub here: String,
}

impl Layout {
    pub fn new(title: impl Into<String>, user: Option<&User>) -> Layout {
        Layout {
            title: title.into(),
            user: user.map(|u| UserView {
                display_name: u.display_name.clone(),
                role: u.role.name_zh(),
                scope: u.scope.as_ref().map(|s| s.to_string()),
                csrf: u.csrf.clone(),
                can_write: u.role != crate::identity::Role::Auditor,
            }),
            flash: None,
            large: false,
            here: String::new(),
        }
    }

    /// A public page's text size from the reader's cookie, and its address to come back to.
    pub fn for_reader(mut self, headers: &axum::http::HeaderMap, here: &str) -> Layout {
        self.large =
            crate::identity::cookie_value(headers, LARGE_TEXT_COOKIE).as_deref() == Some("large");
        self.here = pct(here);
        self
    }

    pub fn with_flash(mut self, kind: &'static str, text: Option<String>) -> Layout {
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            self.flash = Some(Flash { kind, text });
        }
        self
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: String,
    message: String,
}

/// Renders a template as an HTML response.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("页面生成出错：{e}"),
        )
            .into_response(),
    }
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let heading = match status {
        StatusCode::FORBIDDEN => "无权访问",
        StatusCode::NOT_FOUND => "未找到",
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "输入有误",
        StatusCode::TOO_MANY_REQUESTS => "尝试次数过多",
        _ => "出错了",
    };
    let page = ErrorPage {
        layout: Layout::new(heading, None),
        heading: heading.into(),
        message: message.into(),
    };
    (status, render(&page)).into_response()
}

/// Every handler's error (as crates.io's `util/errors.rs`): what went wrong decides the HTTP status;
/// a page shows it as an error page, the JSON API as `{"error": …}` with the same status. The text is
/// Chinese and never a database's own words: an internal failure is logged and shown as
/// [`INTERNAL`].
#[derive(Debug)]
pub enum WebError {
    /// Input that cannot be read (a region code that is not 12 digits): 400.
    BadInput(String),
    /// Input read but refused by a rule (a store's own message, a report that cannot be made): 422.
    Invalid(String),
    /// The user's role or scope does not allow it: 403.
    Denied(String),
    /// No such thing: 404.
    NotFound(String),
    /// The thing's state forbids it now (a closed year, a step out of order): 409.
    Conflict(String),
    /// The server is busy or stopping: 503.
    Unavailable(String),
    /// Anything else; its cause was logged when the error was made: 500.
    Internal,
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadInput(_) => StatusCode::BAD_REQUEST,
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Denied(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            WebError::BadInput(m)
            | WebError::Invalid(m)
            | WebError::Denied(m)
            | WebError::NotFound(m)
            | WebError::Conflict(m)
            | WebError::Unavailable(m) => m,
            WebError::Internal => INTERNAL,
        }
    }

    /// An internal failure: its cause is logged for the operator, the user reads [`INTERNAL`].
    pub fn internal(what: &str, cause: &dyn std::fmt::Display) -> WebError {
        log_error(what, cause);
        WebError::Internal
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        error_page(self.status(), self.message())
    }
}

impl From<crate::identity::Denied> for WebError {
    fn from(d: crate::identity::Denied) -> Self {
        WebError::Denied(d.message)
    }
}

/// Each store error's HTTP status, in one place (as crates.io's errors carry theirs): the user's
/// input 422, no such thing 404, a state that forbids the step 409, a database that cannot be
/// reached 503; a database that holds what cunji cannot read, or any other failure, 500 with the
/// cause logged and never shown (it may name tables, hosts or paths).
impl From<cunji_store::StoreError> for WebError {
    fn from(e: cunji_store::StoreError) -> Self {
        use cunji_store::StoreError as S;
        match e {
            S::Invalid(m) => WebError::Invalid(m),
            S::NotFound(m) => WebError::NotFound(m),
            S::Conflict(m) => WebError::Conflict(m),
            S::Unavailable(_) => {
                log_error("store", &e);
                WebError::Unavailable(UNAVAILABLE.to_string())
            }
            other => WebError::internal("store", &other),
        }
    }
}

/// What a user is told of a failure that is not theirs to fix: never the database's own text (it
/// names tables and constraints), which goes to the server's log instead.
pub const INTERNAL: &str =
    "服务器未能完成这个操作，请稍后再试；如果一再出现，请把时间告诉管理员（详情已记入服务器日志）";

/// What a user is told when the database cannot be reached (its address stays in the log).
pub const UNAVAILABLE: &str = "数据库暂时无法访问，请稍后再试；如果一再出现，请告诉管理员";

/// A store error as a user may read it: the store's own Chinese message where it is theirs to
/// act on, otherwise the generic text with the cause logged.
pub fn store_message(e: &cunji_store::StoreError) -> String {
    WebError::from(clone_kind(e)).message().to_string()
}

/// The error again (`StoreError` holds a `sqlx::Error`, which is not `Clone`): what the user may
/// read is kept, the rest is logged here.
fn clone_kind(e: &cunji_store::StoreError) -> cunji_store::StoreError {
    use cunji_store::StoreError as S;
    match e {
        S::Invalid(m) => S::Invalid(m.clone()),
        S::NotFound(m) => S::NotFound(m.clone()),
        S::Conflict(m) => S::Conflict(m.clone()),
        S::Unavailable(m) => S::Unavailable(m.clone()),
        other => S::Corrupt(other.to_string()),
    }
}

/// A region code from a path or a form, exactly 12 digits: nothing trimmed, so that a code padded
/// with spaces or carrying a CR/LF is refused before anything is written (it once wrote the entry
/// and then failed on the redirect, or reached the database as a foreign-key error).
pub fn strict_code(text: &str) -> Result<cunji_core::region::RegionCode, WebError> {
    let shown: String = text.chars().take(40).filter(|c| !c.is_control()).collect();
    if text.len() != 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_request(format!(
            "区划代码 `{shown}` 应为 12 位数字（不含空格或换行）"
        )));
    }
    cunji_core::region::RegionCode::parse(text).map_err(|e| bad_request(e.to_string()))
}

/// Logs a failure's cause for the server's operator (standard error).
pub fn log_error(what: &str, e: &dyn std::fmt::Display) {
    tracing::error!(%what, error = %e, "internal error");
}

pub fn not_found(what: &str) -> WebError {
    WebError::NotFound(format!("没有{what}"))
}

pub fn bad_request(what: impl Into<String>) -> WebError {
    WebError::BadInput(what.into())
}

/// An amount that may be missing, as a page shows it: in 万元 or yuan, or "—".
pub trait Shown {
    /// In 万元 without the unit (the heading says it), or a dash.
    fn wan_number_or_dash(self) -> String;
    fn display_or_dash(self) -> String;
}

impl Shown for Option<cunji_core::Fen> {
    fn wan_number_or_dash(self) -> String {
        self.map(|f| f.wan_number()).unwrap_or_else(|| "—".into())
    }
    fn display_or_dash(self) -> String {
        self.map(|f| f.display()).unwrap_or_else(|| "—".into())
    }
}

/// Percent-encodes a query value.
pub fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
