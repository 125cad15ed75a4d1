//! The county's settings, edited by its administrator on the policy page.

use axum::extract::State;
use axum::response::Redirect;
use axum::Form;

use crate::auth::CountyAdmin;
use crate::html::WebError;
use crate::state::AppState;

/// The 监督电话 as a county writes it: digits, spaces, `-`, `+`, `(` and `)`, at most 30; empty removes
/// it from the pages.
fn phone_of(text: &str) -> Result<&str, String> {
    let phone = text.trim();
    let ok = phone.chars().count() <= 30
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " -+()".contains(c));
    if ok {
        Ok(phone)
    } else {
        Err(format!(
            "监督电话只能含数字、空格和 - + ( )，最多 30 个字符，不是“{phone}”"
        ))
    }
}

/// `POST /settings/phone`: the county's 监督电话, printed on public pages and notices.
pub async fn save_phone(
    State(state): State<AppState>,
    CountyAdmin(user): CountyAdmin,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Redirect, WebError> {
    let text = form
        .iter()
        .find(|(k, _)| k == "phone")
        .map_or("", |(_, v)| v.as_str());
    let r = match phone_of(text) {
        Ok(phone) => user
            .store(&state)
            .set_setting(
                cunji_store::settings::SUPERVISION_PHONE,
                phone,
                &user.username,
            )
            .await
            .map(|_| format!("监督电话已设为“{phone}”"))
            .map_err(|e| crate::html::store_message(&e)),
        Err(m) => Err(m),
    };
    Ok(super::back_with("/policy", r))
}

#[cfg(test)]
mod tests {
    use super::phone_of;

    #[test]
    fn a_phone_is_digits_and_the_usual_marks() {
        assert_eq!(phone_of(" 0318-7221234 "), Ok("0318-7221234"));
        assert_eq!(phone_of("+86 (318) 722 1234"), Ok("+86 (318) 722 1234"));
        assert_eq!(phone_of(""), Ok(""));
        assert!(phone_of("=1+2").is_err());
        assert!(phone_of(&"1".repeat(31)).is_err());
    }
}
