//! Page furniture: the layout every page extends, flash messages, error pages, and rendering.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::auth::User;

/// The signed-in user as the layout shows them.
pub struct UserView {
    pub display_name: String,
    pub role: &'static str,
    pub scope: Option<String>,
    pub csrf: String,
    pub can_write: bool,
}

pub struct Flash {
    pub kind: &'static str,
    pub text: String,
}

pub struct Layout {
    pub title: String,
    pub user: Option<UserView>,
    pub flash: Option<Flash>,
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
                can_write: u.role != crate::auth::Role::Auditor,
            }),
            flash: None,
        }
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

/// A failure while building a page: shown as an error page with its status.
pub struct PageError(pub StatusCode, pub String);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(self.0, &self.1)
    }
}

impl From<crate::auth::Denied> for PageError {
    fn from(d: crate::auth::Denied) -> Self {
        PageError(d.status, d.message)
    }
}

impl From<String> for PageError {
    fn from(s: String) -> Self {
        PageError(StatusCode::INTERNAL_SERVER_ERROR, s)
    }
}

impl From<cunji_store::StoreError> for PageError {
    fn from(e: cunji_store::StoreError) -> Self {
        let status = match e {
            cunji_store::StoreError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        PageError(status, store_message(&e))
    }
}

/// What a user is told of a failure that is not theirs to fix: never the database's own text (it
/// names tables and constraints), which goes to the server's log instead.
pub const INTERNAL: &str =
    "服务器未能完成这个操作，请稍后再试；如果一再出现，请把时间告诉管理员（详情已记入服务器日志）";

/// A store error as a user may read it: the store's own Chinese message for bad input, otherwise
/// [`INTERNAL`] with the cause logged.
pub fn store_message(e: &cunji_store::StoreError) -> String {
    match e {
        cunji_store::StoreError::Invalid(m) => m.clone(),
        other => {
            log_error("store", other);
            INTERNAL.to_string()
        }
    }
}

/// A region code from a path or a form, exactly 12 digits: nothing trimmed, so that a code padded
/// with spaces or carrying a CR/LF is refused before anything is written (it once wrote the entry
/// and then failed on the redirect, or reached the database as a foreign-key error).
pub fn strict_code(text: &str) -> Result<cunji_core::region::RegionCode, PageError> {
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
    eprintln!("cunji: error: {what}: {e}");
}

pub fn not_found(what: &str) -> PageError {
    PageError(StatusCode::NOT_FOUND, format!("没有{what}"))
}

pub fn bad_request(what: impl Into<String>) -> PageError {
    PageError(StatusCode::BAD_REQUEST, what.into())
}
