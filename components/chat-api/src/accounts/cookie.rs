//! The refresh token in a cookie, for the web app: `HttpOnly` (page
//! scripts, an injected one included, cannot read it), `SameSite=Strict`
//! (no other site's page can make the browser send it) and sent only to
//! the `/api/auth/` routes (sign-in, refresh, sign-out), never with the
//! API calls that carry the access token. Other clients keep getting the
//! token in the body (the default), as before.

use cookie::{Cookie, SameSite};
use todo_domain::Request;

use super::repo::REFRESH_TTL_SECONDS;

pub const NAME: &str = "todo_refresh";
const PATH: &str = "/api/auth/";

/// Where a client wants its refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// In the JSON body's `refresh_token` (API clients, the default).
    Body,
    /// In the [`NAME`] cookie, left out of the body (the web app).
    Cookie,
}

/// The refresh token of the request's [`NAME`] cookie, if any.
pub fn from_request(req: &Request) -> Option<String> {
    req.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| Cookie::split_parse(v.as_str()))
        .filter_map(Result::ok)
        .find(|c| c.name() == NAME && !c.value().is_empty())
        .map(|c| c.value().to_owned())
}

/// `Set-Cookie` handing `token` to the browser for the token's lifetime.
pub fn set(req: &Request, token: &str) -> String {
    build(req, token.to_owned(), i64::from(REFRESH_TTL_SECONDS))
}

/// `Set-Cookie` removing it (sign-out, or a token that is no good).
pub fn clear(req: &Request) -> String {
    build(req, String::new(), 0)
}

fn build(req: &Request, value: String, max_age_seconds: i64) -> String {
    Cookie::build((NAME, value))
        .path(PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(over_https(req))
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build()
        .to_string()
}

/// `Secure` when the browser reached us over HTTPS, as the TLS-terminating
/// proxy in front says. Over plain HTTP (a developer's `127.0.0.1`) a
/// `Secure` cookie would not be stored at all, and the cookie is then no
/// more exposed than the password sent over the same connection.
fn over_https(req: &Request) -> bool {
    req.header("x-forwarded-proto")
        .and_then(|v| v.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut req = Request::new("POST", "/api/auth/refresh");
        req.headers = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        req
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_for_the_auth_routes_only() {
        let header = set(&request(&[]), "tok");
        let mut attributes: Vec<&str> = header.split("; ").collect();
        attributes.sort_unstable();
        assert_eq!(
            attributes,
            [
                "HttpOnly",
                "Max-Age=2592000",
                "Path=/api/auth/",
                "SameSite=Strict",
                "todo_refresh=tok"
            ]
        );
        let behind_tls = set(&request(&[("X-Forwarded-Proto", "https")]), "tok");
        assert!(
            behind_tls.split("; ").any(|a| a == "Secure"),
            "{behind_tls}"
        );
        let cleared = clear(&request(&[]));
        assert!(cleared.starts_with("todo_refresh=;"), "{cleared}");
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let req = request(&[("Cookie", "a=1; todo_refresh=abc; b=2")]);
        assert_eq!(from_request(&req).as_deref(), Some("abc"));
        let split = request(&[("cookie", "a=1"), ("cookie", "todo_refresh=xyz")]);
        assert_eq!(from_request(&split).as_deref(), Some("xyz"));
        assert_eq!(from_request(&request(&[("Cookie", "todo_refresh=")])), None);
        assert_eq!(from_request(&request(&[])), None);
    }
}
