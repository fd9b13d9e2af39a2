//! The playground in headless Chromium (Debian's, driven by playwright-core): sign in by
//! the link, upload through the file input, watch the status go live to PLAYABLE, play.

mod common;

use std::path::PathBuf;

use common::TestApp;
use common::browser::{self, repo};
use common::media::lavfi;

/// The playground's build, with `page` in it (`scripts/test` builds it).
fn built(page: &str) -> PathBuf {
    let dist = repo().join("playground/dist");
    assert!(
        dist.join(page).is_file(),
        "build the playground first: npm ci --prefix playground && npm run build --prefix playground (scripts/test does it)"
    );
    dist
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_uploads_watches_and_plays_a_clip() {
    let dist = built("index.html");
    let app = TestApp::builder()
        .config(move |c| {
            c.workers = 1;
            c.playground.dir = dist;
        })
        .start()
        .await;
    let creds = app.create_app("playground").await;
    let token = app.token(&creds, 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let clip = lavfi(dir.path(), "clip.mp4", 640, 360, 6, true);
    // Screenshots are kept as test artifacts.
    let shots = repo().join("target/playground-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/playground"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.headers()["location"], "/playground/");

    let page = app.url(&format!("/playground/#token={token}"));
    browser::run("playground.mjs", &[&page, &clip, &shots], "PASS").await;
    for shot in ["upload.png", "library.png", "player.png"] {
        assert!(shots.join(shot).is_file(), "{shot} saved");
    }
}

/// GraphiQL is served from the playground's build: it renders and runs a query with
/// nothing fetched from another host (these machines have no internet).
#[tokio::test(flavor = "multi_thread")]
async fn graphiql_works_without_the_internet() {
    let dist = built("graphiql/index.html");
    let app = TestApp::builder()
        .config(move |c| c.playground.dir = dist)
        .start()
        .await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 600).await;
    browser::run("graphiql.mjs", &[&app.base, &token], "PASS").await;
}
