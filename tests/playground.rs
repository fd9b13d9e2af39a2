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

/// A server with one worker serving the playground, an app of `name` with an hour's
/// token, a scratch dir and the screenshot dir (kept as test artifacts).
struct Playground {
    app: TestApp,
    creds: common::Credentials,
    token: String,
    dir: tempfile::TempDir,
    shots: PathBuf,
}

async fn playground(name: &str) -> Playground {
    let dist = built("index.html");
    let app = TestApp::builder()
        .config(move |c| {
            c.workers = 1;
            c.playground.dir = dist;
        })
        .start()
        .await;
    let creds = app.create_app(name).await;
    let token = app.token(&creds, 3600).await;
    let shots = repo().join("target/playground-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let dir = tempfile::tempdir().unwrap();
    Playground {
        app,
        creds,
        token,
        dir,
        shots,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_uploads_watches_and_plays_a_clip() {
    let Playground {
        app,
        token,
        dir,
        shots,
        ..
    } = playground("playground").await;
    let clip = lavfi(dir.path(), "clip.mp4", 640, 360, 6, true);

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

/// The player's tracks: the audio language menu switches hls.js to French, a SubRip file
/// added through the "Text tracks" form shows up as a subtitle with its cue, and an
/// encrypted video has its badges and plays.
#[tokio::test(flavor = "multi_thread")]
async fn the_playground_shows_tracks_and_adds_a_subtitle() {
    use common::media::{lavfi, two_languages, upload, video_id_header, wait_for};
    use common::tus::Tus;
    use reel::model::VideoStatus;

    let Playground {
        app,
        creds,
        token,
        dir,
        shots,
    } = playground("playground-tracks").await;

    // (a) Two audio languages: eng (titled English), then fre.
    let languages = two_languages(dir.path(), "languages.mkv", 8);
    let languages = upload(&app, &token, &languages).await;
    // (b) Encrypted (AES-128) by its upload's metadata.
    let secret = lavfi(dir.path(), "secret.mp4", 320, 240, 4, true);
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let data = std::fs::read(&secret).unwrap();
    let url = tus
        .create_url(
            data.len(),
            &[("filename", "secret.mp4"), ("encrypt", "true")],
        )
        .await;
    let encrypted = video_id_header(&tus.patch(&url, 0, data).await);
    let states = [VideoStatus::Playable, VideoStatus::TranscodeFailed];
    for id in [languages, encrypted] {
        let v = wait_for(&app, creds.app_id, id, &states).await;
        assert_eq!(v.status, VideoStatus::Playable, "{id}: {:?}", v.error);
    }

    let srt = dir.path().join("bonjour.srt");
    std::fs::write(&srt, "1\n00:00:01,000 --> 00:00:04,000\nBonjour\n").unwrap();
    let page = app.url(&format!("/playground/#token={token}"));
    let (languages, encrypted) = (languages.to_string(), encrypted.to_string());
    let log = browser::run(
        "playground_tracks.mjs",
        &[&page, &languages, &encrypted, &srt, &shots],
        "PASS",
    )
    .await;
    println!("{log}");
    for shot in ["subtitles.png", "tracks.png"] {
        assert!(shots.join(shot).is_file(), "{shot} saved");
    }
}

/// Derived media in the player: the thumbnail strip from the image API (8 images 160 px
/// wide), an instant clip made with the clip tool (1 s to 5 s), and "Make downloads"
/// ending with a link that answers 200.
#[tokio::test(flavor = "multi_thread")]
async fn the_playground_shows_thumbnails_clips_and_downloads() {
    use common::media::{upload, wait_for};
    use reel::model::VideoStatus;

    let Playground {
        app,
        creds,
        token,
        dir,
        shots,
    } = playground("playground-derived").await;

    let source = lavfi(dir.path(), "derived.mp4", 640, 360, 8, true);
    let id = upload(&app, &token, &source).await;
    let states = [VideoStatus::Playable, VideoStatus::TranscodeFailed];
    let v = wait_for(&app, creds.app_id, id, &states).await;
    assert_eq!(v.status, VideoStatus::Playable, "{id}: {:?}", v.error);

    let page = app.url(&format!("/playground/#token={token}"));
    let log = browser::run(
        "playground_derived.mjs",
        &[&page, &id.to_string(), &shots],
        "PASS",
    )
    .await;
    println!("{log}");
    assert!(shots.join("derived.png").is_file(), "derived.png saved");
}
