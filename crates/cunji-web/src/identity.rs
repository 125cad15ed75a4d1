//! Who a request is and what vouches for it, without the application: the signed-in user and a
//! refusal, cookies, tokens, the login form's key, password hashing and the sign-in rate limiter.
//! Below the page furniture (`html.rs`) and the shared state (`state.rs`), which show or hold
//! these; `auth.rs` reads them from a request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};
use axum::http::{HeaderMap, StatusCode};
use cunji_core::columns::hex;
use cunji_core::region::RegionCode;
use sha2::{Digest, Sha256};

pub use cunji_core::access::Role;

/// A signed-in user.
#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The region the user is limited to (a township for an officer, a village for an accountant; a
    /// county admin or auditor may be limited to a region too).
    pub scope: Option<RegionCode>,
    pub csrf: String,
    /// Made only here, from a session the store found: a `User` cannot be built elsewhere, so a
    /// handler that holds one went through the sign-in check (and its role extractor's).
    checked: Checked,
}

/// Proof that a request's session was checked (its field is private to this module). The store is
/// reached through it (`User::store`, in `state.rs`), as lldap's handlers receive their store
/// handle only from the permission check: a handler that forgot the check has no user and so no
/// store.
///
/// Neither a proof nor a user can be made without the check, nor the store taken from the state:
///
/// ```compile_fail
/// let proof = cunji_web::auth::Checked(());
/// ```
///
/// ```compile_fail
/// fn bypass(state: &cunji_web::AppState) -> &cunji_store::Store {
///     &state.store
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Checked(());

/// A refusal, shown as a page or a JSON error.
#[derive(Debug)]
pub struct Denied {
    pub status: StatusCode,
    pub message: String,
}

impl Denied {
    pub fn forbidden(message: impl Into<String>) -> Denied {
        Denied {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }
}

impl User {
    /// The user of a session the store found (only `auth::session_user` calls this).
    pub(crate) fn signed_in(row: cunji_store::SessionRow) -> User {
        User {
            id: row.user.id,
            username: row.user.username,
            display_name: row.user.display_name,
            role: row.user.role,
            scope: row.user.scope,
            csrf: row.csrf,
            checked: Checked(()),
        }
    }

    /// The proof this user carries, for the state to hand out the store.
    pub fn checked(&self) -> &Checked {
        &self.checked
    }

    /// May this user read a region (and everything beneath it)?
    pub fn can_read(&self, code: &RegionCode) -> bool {
        match &self.scope {
            None => true,
            // A region above the user's scope is readable only as far as the scope reaches (handled by
            // the pages, which narrow to the scope); a region within the scope is readable.
            Some(s) => s.contains(code),
        }
    }

    pub fn require_read(&self, code: &RegionCode) -> Result<(), Denied> {
        if self.can_read(code) {
            Ok(())
        } else {
            Err(Denied::forbidden(format!(
                "{}（{}）只能查看 {} 范围内的数据，不能查看 {code}",
                self.display_name,
                self.role.name_zh(),
                self.scope
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            )))
        }
    }

    pub fn can_write_entries(&self, village: &RegionCode) -> bool {
        self.role != Role::Auditor && self.can_read(village)
    }

    /// The region a user sees first.
    pub fn home_region(&self) -> Option<&RegionCode> {
        self.scope.as_ref()
    }
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    cookie(headers, name)
}

pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A random token of 32 bytes, hex.
pub fn random_token() -> String {
    let mut buf = [0u8; 32];
    // The operating system's generator; failing it is not something to continue from.
    getrandom::fill(&mut buf).expect("operating system random source");
    hex(&buf)
}

/// HMAC-SHA-256 (RFC 2104) of `message` under `key` (32 bytes, shorter than SHA-256's block).
fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut inner = Sha256::new();
    let mut outer = Sha256::new();
    let (mut ipad, mut opad) = ([0x36u8; 64], [0x5cu8; 64]);
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    inner.update(ipad);
    inner.update(message);
    outer.update(opad);
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The key the login form's cookie is signed with: random for each start of the server (a login
/// form opened before a restart asks to be reloaded, nothing more).
pub struct LoginKey([u8; 32]);

impl LoginKey {
    pub fn random() -> LoginKey {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("operating system random source");
        LoginKey(key)
    }

    /// A new token for the login form and the cookie that vouches for it, `TOKEN.SIGNATURE`: the
    /// double-submit check then holds even against someone who can set cookies for this site (a
    /// sibling subdomain, a plain-http man in the middle before HSTS), who cannot sign a token.
    pub fn issue(&self) -> (String, String) {
        let token = random_token();
        let signature = hex(&hmac_sha256(&self.0, token.as_bytes()));
        (token.clone(), format!("{token}.{signature}"))
    }

    /// The token of a login cookie whose signature is this server's, else `None`.
    pub fn verify(&self, cookie: &str) -> Option<String> {
        let (token, signature) = cookie.split_once('.')?;
        let expected = hex(&hmac_sha256(&self.0, token.as_bytes()));
        // Compared in constant time: the signature's bytes are not revealed by how long a refusal takes.
        let same = expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |d, (a, b)| d | (a ^ b))
                == 0;
        same.then(|| token.to_string())
    }
}

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
const ARGON2_KIB: u32 = 19 * 1024;

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_KIB, 2, 1, Some(32)).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The working memory of one argon2id hash (19 MiB), kept and used again by the server: freed and
/// allocated anew on whichever blocking thread ran the hash, each thread's allocator arena kept its
/// own 19 MiB, and 100 concurrent logins left the server at 600 MiB with two hashes at a time.
pub struct HashMemory(Vec<argon2::Block>);

impl HashMemory {
    pub fn new() -> HashMemory {
        HashMemory(vec![argon2::Block::default(); ARGON2_KIB as usize])
    }
}

impl Default for HashMemory {
    fn default() -> Self {
        HashMemory::new()
    }
}

/// `argon2id$<salt hex>$<hash hex>` with the parameters above.
pub fn hash_password(password: &str) -> Result<String, String> {
    hash_password_in(password, &mut HashMemory::new())
}

/// As [`hash_password`], in the given working memory.
pub fn hash_password_in(password: &str, memory: &mut HashMemory) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("无法取得随机数：{e}"))?;
    let mut out = [0u8; 32];
    argon2()
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, &mut memory.0[..])
        .map_err(|e| format!("密码散列失败：{e}"))?;
    Ok(format!("argon2id${}${}", hex(&salt), hex(&out)))
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    verify_password_in(password, stored, &mut HashMemory::new())
}

/// As [`verify_password`], in the given working memory.
pub fn verify_password_in(password: &str, stored: &str, memory: &mut HashMemory) -> bool {
    let mut parts = stored.split('$');
    let (Some("argon2id"), Some(salt), Some(hash), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Some(salt), Some(hash)) = (unhex(salt), unhex(hash)) else {
        return false;
    };
    let mut out = vec![0u8; hash.len()];
    if argon2()
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, &mut memory.0[..])
        .is_err()
    {
        return false;
    }
    // Constant time: every byte is compared.
    out.iter().zip(&hash).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0 && out.len() == hash.len()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Failed sign-ins remembered per user name *and* address: five within the window block that pair
/// only, so a stranger guessing from elsewhere cannot lock a user out, nor one proxy address lock out
/// everyone behind it. An attempt is counted when it starts, before its password is hashed, so
/// concurrent guesses cannot slip past the count. Memory is bounded: keys are cut to
/// [`KEY_CHARS`] characters of the user name, each pair keeps at most `max_failures` times, and at
/// most [`LIMITER_KEYS`] pairs are kept (expired ones are dropped first, then the least recently
/// tried), about 1.5 MB at most.
pub struct RateLimiter {
    attempts: Mutex<HashMap<(String, std::net::IpAddr), Vec<Instant>>>,
    pub max_failures: usize,
    pub window: Duration,
}

/// Characters of a user name that key the limiter (names are short; a 1 MB name was kept whole).
pub const KEY_CHARS: usize = 64;
/// Pairs of user name and address the limiter remembers at most.
pub const LIMITER_KEYS: usize = 10_000;

impl RateLimiter {
    pub fn new(max_failures: usize, window: Duration) -> RateLimiter {
        RateLimiter {
            attempts: Mutex::new(HashMap::new()),
            max_failures,
            window,
        }
    }

    fn key(user: &str, addr: std::net::IpAddr) -> (String, std::net::IpAddr) {
        (user.chars().take(KEY_CHARS).collect(), addr)
    }

    /// Whether the pair is blocked now, without recording anything: a blocked guesser is refused
    /// before it waits for a turn to hash.
    pub fn is_blocked(&self, user: &str, addr: std::net::IpAddr) -> bool {
        let map = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        map.get(&Self::key(user, addr)).is_some_and(|list| {
            list.iter()
                .filter(|t| now.duration_since(**t) < self.window)
                .count()
                >= self.max_failures
        })
    }

    /// Records an attempt of `user` from `addr`, or refuses it (`false`) when that pair already
    /// failed `max_failures` times within the window.
    pub fn begin(&self, user: &str, addr: std::net::IpAddr) -> bool {
        let mut map = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let key = Self::key(user, addr);
        if !map.contains_key(&key) && map.len() >= LIMITER_KEYS {
            map.retain(|_, list| {
                list.retain(|t| now.duration_since(*t) < self.window);
                !list.is_empty()
            });
            while map.len() >= LIMITER_KEYS {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, list)| list.last().copied())
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => map.remove(&k),
                    None => break,
                };
            }
        }
        let list = map.entry(key).or_default();
        list.retain(|t| now.duration_since(*t) < self.window);
        if list.len() >= self.max_failures {
            return false;
        }
        list.push(now);
        true
    }

    /// A successful sign-in forgets the pair's attempts.
    pub fn succeed(&self, user: &str, addr: std::net::IpAddr) {
        let mut map = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&Self::key(user, addr));
    }

    /// Pairs remembered now (for tests of the bound).
    pub fn len(&self) -> usize {
        self.attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify() {
        let h = hash_password("正确的密码").unwrap();
        assert!(verify_password("正确的密码", &h));
        assert!(!verify_password("错误的密码", &h));
        assert!(!verify_password("x", "garbage"));
    }

    #[test]
    fn rate_limiter_blocks_a_user_at_an_address_after_failures() {
        let r = RateLimiter::new(3, Duration::from_secs(60));
        let (a, b): (std::net::IpAddr, std::net::IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert!(r.begin("u", a));
        }
        assert!(!r.begin("u", a));
        assert!(r.is_blocked("u", a) && !r.is_blocked("u", b));
        // Another user at that address, and that user from another address, are not blocked.
        assert!(r.begin("v", a));
        assert!(r.begin("u", b));
        r.succeed("u", a);
        assert!(r.begin("u", a));
    }

    #[test]
    fn rate_limiter_memory_is_bounded() {
        let r = RateLimiter::new(5, Duration::from_secs(60));
        let a: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let long = "名".repeat(1_000_000);
        assert!(r.begin(&long, a));
        let kept = r.attempts.lock().unwrap();
        assert!(kept.keys().all(|k| k.0.chars().count() <= KEY_CHARS));
        drop(kept);
        for i in 0..LIMITER_KEYS + 500 {
            assert!(r.begin(&format!("user{i}"), a));
        }
        assert_eq!(r.len(), LIMITER_KEYS);
        // The latest pairs are the ones kept: the newest is still counted.
        for _ in 0..4 {
            assert!(r.begin(&format!("user{}", LIMITER_KEYS + 499), a));
        }
        assert!(!r.begin(&format!("user{}", LIMITER_KEYS + 499), a));
    }
}
