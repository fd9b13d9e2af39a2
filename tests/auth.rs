//! Authentication (docs/api.md) against a running server: signatures (query and headers) and JWT bearer tokens.

mod common;

use common::signing::Signature;
use common::{Credentials, TestApp, error_code};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// (name, how to sign, query added after signing, expected reason)
type Case = (
    &'static str,
    Box<dyn Fn(&mut Signature) -> String>,
    &'static [(&'static str, &'static str)],
    &'static str,
);

const QUERY: &str = r#"{"query":"{ videos { edges { node { id } } } }"}"#;

/// Sends `body` as a POST to /graphql with the signature in the query string.
async fn post(
    app: &TestApp,
    sig: &Signature,
    signature: &str,
    extra: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let url = format!("{}/graphql?{}", app.base, sig.query(signature, extra));
    let resp = app
        .http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

async fn setup() -> (TestApp, Credentials) {
    let app = TestApp::start().await;
    let creds = app.create_app("alpha").await;
    (app, creds)
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn signature_in_query_is_accepted() {
    let (app, creds) = setup().await;
    let sig = Signature::new(&creds);
    let signature = sig.sign("POST", "/graphql", &[], QUERY.as_bytes());
    let (status, body) = post(&app, &sig, &signature, &[], QUERY).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["videos"]["edges"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn signature_in_headers_is_accepted() {
    let (app, creds) = setup().await;
    let sig = Signature::new(&creds);
    // Header-borne fields are signed as if they were query parameters.
    let signature = sig.sign("POST", "/graphql", &[], QUERY.as_bytes());
    let resp = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .header("X-Reel-App-Key", &sig.app_key)
        .header("X-Reel-Timestamp", sig.timestamp.to_string())
        .header("X-Reel-Random", &sig.random)
        .header("X-Reel-Signature", &signature)
        .body(QUERY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body["errors"].is_null(), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn get_request_with_query_params_is_signed_over_them() {
    let (app, creds) = setup().await;
    let sig = Signature::new(&creds);
    let query = "{ videos(first: 3) { pageInfo { hasNextPage } } }";
    let extra = [("query", query)];
    let signature = sig.sign("GET", "/graphql", &extra, b"");
    let url = format!("{}/graphql?{}", app.base, sig.query(&signature, &extra));
    let resp = app.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["data"]["videos"]["pageInfo"]["hasNextPage"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_requests_are_refused_with_a_reason() {
    let (app, creds) = setup().await;
    let other_body = r#"{"query":"{ videos { edges { cursor } } }"}"#;

    let cases: Vec<Case> = vec![
        (
            "wrong secret",
            Box::new(|s: &mut Signature| {
                s.secret = "sk_not_the_secret".into();
                s.sign("POST", "/graphql", &[], QUERY.as_bytes())
            }),
            &[],
            "signature does not match",
        ),
        (
            "wrong method",
            Box::new(|s: &mut Signature| s.sign("GET", "/graphql", &[], QUERY.as_bytes())),
            &[],
            "signature does not match",
        ),
        (
            "wrong path",
            Box::new(|s: &mut Signature| s.sign("POST", "/graphiql", &[], QUERY.as_bytes())),
            &[],
            "signature does not match",
        ),
        (
            "query parameter added after signing",
            Box::new(|s: &mut Signature| s.sign("POST", "/graphql", &[], QUERY.as_bytes())),
            &[("vid", "1")],
            "signature does not match",
        ),
        (
            "other body",
            Box::new(|s: &mut Signature| s.sign("POST", "/graphql", &[], other_body.as_bytes())),
            &[],
            "signature does not match",
        ),
        (
            "stale timestamp",
            Box::new(|s: &mut Signature| {
                s.timestamp -= 301;
                s.sign("POST", "/graphql", &[], QUERY.as_bytes())
            }),
            &[],
            "away from the server's clock",
        ),
        (
            "future timestamp",
            Box::new(|s: &mut Signature| {
                s.timestamp += 301;
                s.sign("POST", "/graphql", &[], QUERY.as_bytes())
            }),
            &[],
            "away from the server's clock",
        ),
        (
            // Found by fuzzing: `timestamp - now` overflowed (a panic in debug builds; in
            // release `now + i64::MIN` wrapped to a skew that passed the clock check).
            "timestamp near i64::MIN",
            Box::new(|s: &mut Signature| {
                s.timestamp = i64::MIN;
                s.sign("POST", "/graphql", &[], QUERY.as_bytes())
            }),
            &[],
            "away from the server's clock",
        ),
        (
            "timestamp near i64::MAX",
            Box::new(|s: &mut Signature| {
                s.timestamp = i64::MAX;
                s.sign("POST", "/graphql", &[], QUERY.as_bytes())
            }),
            &[],
            "away from the server's clock",
        ),
        (
            "unknown app_key",
            Box::new(|s: &mut Signature| {
                s.app_key = "ak_nobody".into();
                s.sign("POST", "/graphql", &[], QUERY.as_bytes())
            }),
            &[],
            "unknown app_key",
        ),
        (
            "signature not hex",
            Box::new(|_: &mut Signature| "not-hex".into()),
            &[],
            "signature does not match",
        ),
    ];
    for (name, make, extra, reason) in cases {
        let mut sig = Signature::new(&creds);
        let signature = make(&mut sig);
        let (status, body) = post(&app, &sig, &signature, extra, QUERY).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(body["code"], "UNAUTHENTICATED", "{name}");
        assert!(message(&body).contains(reason), "{name}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_credentials_and_fields_are_named() {
    let (app, creds) = setup().await;
    let resp = app
        .http
        .post(app.url("/graphql"))
        .body(QUERY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert!(message(&body).contains("authentication required"), "{body}");

    let url = format!(
        "{}/graphql?app_key={}&timestamp=1&signature=ab",
        app.base, creds.key
    );
    let resp = app.http.post(url).body(QUERY).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert!(message(&body).contains("`random`"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn replayed_nonce_is_refused() {
    let (app, creds) = setup().await;
    let sig = Signature::new(&creds);
    let signature = sig.sign("POST", "/graphql", &[], QUERY.as_bytes());
    let (first, _) = post(&app, &sig, &signature, &[], QUERY).await;
    assert_eq!(first, 200);
    let (second, body) = post(&app, &sig, &signature, &[], QUERY).await;
    assert_eq!(second, 401);
    assert!(message(&body).contains("already used"), "{body}");
    // A forged request must not burn a nonce: the real one still works afterwards.
    let mut fresh = Signature::new(&creds);
    let good = fresh.sign("POST", "/graphql", &[], QUERY.as_bytes());
    fresh.secret = "wrong".into();
    let forged = fresh.sign("POST", "/graphql", &[], QUERY.as_bytes());
    assert_eq!(post(&app, &fresh, &forged, &[], QUERY).await.0, 401);
    assert_eq!(post(&app, &fresh, &good, &[], QUERY).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn bearer_token_from_create_token_works() {
    let (app, creds) = setup().await;
    let token = app.token(&creds, 600).await;
    let (status, body) = app
        .graphql_bearer(&token, "{ videos { edges { cursor } } }")
        .await;
    assert_eq!(status, 200);
    assert!(body["errors"].is_null(), "{body}");
}

fn forge(secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_tampered_and_foreign_tokens_are_refused() {
    let (app, creds) = setup().await;
    let other = app.create_app("beta").await;
    let now = chrono::Utc::now().timestamp();
    let claims = |sub: &str, app_id: i64, exp: i64| json!({ "sub": sub, "app": app_id, "iss": "reel", "iat": now - 100, "exp": exp });

    let expired = forge(&creds.secret, claims(&creds.key, creds.app_id.0, now - 10));
    let (status, body) = app
        .graphql_bearer(&expired, "{ videos { edges { cursor } } }")
        .await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("expired"), "{body}");

    let good = app.token(&creds, 600).await;
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    // Re-encode the payload claiming the other app: the signature no longer matches.
    let payload = claims(&other.key, other.app_id.0, now + 600).to_string();
    parts[1] = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload);
    let tampered = parts.join(".");
    let (status, body) = app
        .graphql_bearer(&tampered, "{ videos { edges { cursor } } }")
        .await;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("invalid token"), "{body}");

    // Signed with app B's secret while claiming app A.
    let cross = forge(&other.secret, claims(&creds.key, creds.app_id.0, now + 600));
    assert_eq!(
        app.graphql_bearer(&cross, "{ videos { edges { cursor } } }")
            .await
            .0,
        401
    );

    let (status, _) = app
        .graphql_bearer("not.a.jwt", "{ videos { edges { cursor } } }")
        .await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_only_sees_its_own_app() {
    let (app, alpha) = setup().await;
    let beta = app.create_app("beta").await;
    let alpha_video = app
        .insert_video(alpha.app_id, reel::model::VideoStatus::Uploaded)
        .await;
    let beta_video = app
        .insert_video(beta.app_id, reel::model::VideoStatus::Uploaded)
        .await;
    let beta_token = app.token(&beta, 600).await;
    let (_, body) = app
        .graphql_bearer(&beta_token, &format!("{{ mine: video(id: \"{beta_video}\") {{ id }} theirs: video(id: \"{alpha_video}\") {{ id }} }}"))
        .await;
    assert_eq!(body["data"]["mine"]["id"], beta_video.to_string());
    assert!(body["data"]["theirs"].is_null(), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_cannot_mint_a_longer_lived_token() {
    let (app, creds) = setup().await;
    let short = app.token(&creds, 60).await;
    let (_, body) = app
        .graphql_bearer(
            &short,
            "mutation { createToken(ttlSeconds: 86400) { expiresAt } }",
        )
        .await;
    let expires: chrono::DateTime<chrono::Utc> = body["data"]["createToken"]["expiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        expires <= chrono::Utc::now() + chrono::Duration::seconds(61),
        "{body}"
    );
    assert!(error_code(&body).is_none());
}
