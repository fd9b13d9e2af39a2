//! The job queue against real Postgres: jobs that wait for other jobs (fan-out, fan-in),
//! and a kind defined outside the crate run by the one runner next to Reel's own.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::TestApp;
use reel::db;
use reel::jobs::{Job, JobContext, JobError, Lane, Registry};
use reel::model::JobId;
use reel::queue::{self, Claimed, NewJob, Payload};
use serde::{Deserialize, Serialize};

/// A kind of this test: records its number when it runs.
#[derive(Debug, Serialize, Deserialize)]
struct Note {
    n: u32,
    /// Fail (for good) instead of recording.
    #[serde(default)]
    fail: bool,
}

impl Payload for Note {
    const KIND: &'static str = "test_note";
}

/// Numbers noted, in the order their jobs ran (one test uses it).
static NOTED: Mutex<Vec<u32>> = Mutex::new(Vec::new());

impl Job for Note {
    async fn run(self, _: &JobContext, _: &Claimed) -> Result<(), JobError> {
        if self.fail {
            return Err(JobError::Permanent(format!("note {} fails", self.n)));
        }
        NOTED.lock().unwrap().push(self.n);
        Ok(())
    }
}

async fn enqueue(app: &TestApp, note: Note, after: &[JobId]) -> JobId {
    let mut conn = app.reel.db.get().await.unwrap();
    let job = NewJob::new(&note).after(after.iter().copied());
    queue::enqueue(&mut conn, job).await.unwrap()
}

async fn claim(app: &TestApp) -> Option<(JobId, u32)> {
    let mut conn = app.reel.db.get().await.unwrap();
    let row = db::jobs::claim(&mut conn, "tester", 30, &[Note::KIND])
        .await
        .unwrap()?;
    let job = Claimed::new(row, "tester");
    Some((job.id, job.payload::<Note>().unwrap().n))
}

async fn state(app: &TestApp, id: JobId) -> String {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let mut conn = app.reel.db.get().await.unwrap();
    db::schema::jobs::table
        .find(id)
        .select(db::schema::jobs::state)
        .get_result(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_runs_once_every_job_it_waits_for_has_ended() {
    let app = TestApp::start().await;
    let a = enqueue(&app, Note { n: 1, fail: false }, &[]).await;
    let b = enqueue(&app, Note { n: 2, fail: false }, &[]).await;
    let join = enqueue(&app, Note { n: 3, fail: false }, &[a, b]).await;
    assert_eq!(state(&app, join).await, "waiting");

    // Fan-out: both prerequisites are claimable, the join is not.
    let first = claim(&app).await.expect("a prerequisite");
    let second = claim(&app).await.expect("the other one");
    assert_eq!(claim(&app).await, None, "the join waits");
    let mut claimed = [first.1, second.1];
    claimed.sort();
    assert_eq!(claimed, [1, 2]);

    let mut conn = app.reel.db.get().await.unwrap();
    assert!(db::jobs::finish(&mut conn, a, "tester").await.unwrap());
    assert_eq!(state(&app, join).await, "waiting", "one prerequisite left");
    assert_eq!(claim(&app).await, None);
    // A prerequisite failing for good ends it too: the join runs and can look.
    db::jobs::fail(&mut conn, b, "tester", "broken", None)
        .await
        .unwrap();
    assert_eq!(state(&app, join).await, "queued");
    assert_eq!(claim(&app).await, Some((join, 3)));

    // Waiting for a job that has already ended is not waiting at all.
    let late = enqueue(&app, Note { n: 4, fail: false }, &[a]).await;
    assert_eq!(state(&app, late).await, "queued");
    // A retried attempt is not an end.
    let c = enqueue(&app, Note { n: 5, fail: false }, &[]).await;
    let after_c = enqueue(&app, Note { n: 6, fail: false }, &[c]).await;
    assert_eq!(claim(&app).await.map(|c| c.1), Some(4));
    assert_eq!(claim(&app).await, Some((c, 5)));
    db::jobs::fail(&mut conn, c, "tester", "try again", Some(0))
        .await
        .unwrap();
    assert_eq!(state(&app, after_c).await, "waiting");
}

#[tokio::test(flavor = "multi_thread")]
async fn prerequisites_ending_at_once_release_their_job_exactly_once() {
    let app = TestApp::start().await;
    for round in 0..20 {
        let prerequisites: Vec<JobId> = futures_util::future::join_all((0..4).map(|i| {
            enqueue(
                &app,
                Note {
                    n: round * 10 + i,
                    fail: false,
                },
                &[],
            )
        }))
        .await;
        let join = enqueue(
            &app,
            Note {
                n: 999,
                fail: false,
            },
            &prerequisites,
        )
        .await;
        let mut ids = Vec::new();
        while ids.len() < 4 {
            ids.push(claim(&app).await.expect("a prerequisite").0);
        }
        // Four connections end the four prerequisites at the same moment.
        let ends = ids.iter().map(|&id| {
            let pool = app.reel.db.clone();
            async move {
                let mut conn = pool.get().await.unwrap();
                db::jobs::finish(&mut conn, id, "tester").await.unwrap()
            }
        });
        assert!(
            futures_util::future::join_all(ends)
                .await
                .into_iter()
                .all(|f| f)
        );
        assert_eq!(state(&app, join).await, "queued", "round {round}");
        assert_eq!(claim(&app).await, Some((join, 999)));
        let mut conn = app.reel.db.get().await.unwrap();
        db::jobs::finish(&mut conn, join, "tester").await.unwrap();
    }
}

/// Adding a kind is one `impl Job` and one `Registry::with` line: this test's `Note`
/// runs through the runner Reel's own kinds use, fanned out and in.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_kind_fans_out_and_in_through_the_one_runner() {
    let app = TestApp::start().await;
    let registry = Registry::default().with::<Note>();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let runner = app
        .reel
        .runner_with(registry)
        .spawn(&[(Lane::Media, 2)], stopped);

    let mut parts = Vec::new();
    for n in 1..=3 {
        parts.push(enqueue(&app, Note { n, fail: false }, &[]).await);
    }
    let failing = enqueue(&app, Note { n: 4, fail: true }, &[]).await;
    parts.push(failing);
    let join = enqueue(
        &app,
        Note {
            n: 100,
            fail: false,
        },
        &parts,
    )
    .await;
    for _ in 0..200 {
        if state(&app, join).await == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state(&app, join).await, "done");
    assert_eq!(state(&app, failing).await, "failed");
    let noted = NOTED.lock().unwrap().clone();
    assert_eq!(noted.len(), 4, "{noted:?}");
    assert_eq!(noted.last(), Some(&100), "the join ran last: {noted:?}");
    let _ = stop.send(true);
    runner.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn finished_jobs_are_pruned_once_old_enough() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::start().await;
    let old_done = enqueue(&app, Note { n: 1, fail: false }, &[]).await;
    let old_failed = enqueue(&app, Note { n: 2, fail: false }, &[]).await;
    let recent_done = enqueue(&app, Note { n: 3, fail: false }, &[]).await;
    let old_running = enqueue(&app, Note { n: 4, fail: false }, &[]).await;
    // A job that waited for the old one and was freed by it.
    let after_old = enqueue(&app, Note { n: 5, fail: false }, &[old_done]).await;
    let queued = enqueue(&app, Note { n: 6, fail: false }, &[]).await;
    let mut conn = app.reel.db.get().await.unwrap();
    let set = |id: JobId, state: &str, age_hours: i32| {
        diesel::sql_query(format!(
            "UPDATE jobs SET state = '{state}', updated_at = now() - interval '{age_hours} hours' WHERE id = {id}"
        ))
    };
    for (id, state, age) in [
        (old_done, "done", 48),
        (old_failed, "failed", 48),
        (recent_done, "done", 1),
        (old_running, "running", 48),
    ] {
        set(id, state, age).execute(&mut conn).await.unwrap();
    }
    diesel::sql_query(format!(
        "UPDATE jobs SET state = 'queued', waiting_for = 0 WHERE id = {after_old}"
    ))
    .execute(&mut conn)
    .await
    .unwrap();

    // Older than a day goes, at most `limit` at a time.
    let day = 24 * 3600;
    assert_eq!(db::jobs::prune(&mut conn, day, 1).await.unwrap(), 1);
    assert_eq!(db::jobs::prune(&mut conn, day, 100).await.unwrap(), 1);
    assert_eq!(db::jobs::prune(&mut conn, day, 100).await.unwrap(), 0);
    drop(conn);
    let left: Vec<JobId> = {
        use diesel::QueryDsl;
        let mut conn = app.reel.db.get().await.unwrap();
        let ids = db::schema::jobs::table
            .select(db::schema::jobs::id)
            .order(db::schema::jobs::id);
        ids.load(&mut conn).await.unwrap()
    };
    assert_eq!(left, vec![recent_done, old_running, after_old, queued]);
    // The job that waited for a pruned one still runs.
    assert_eq!(state(&app, after_old).await, "queued");
    assert!(claim(&app).await.is_some());
}

/// `synchronous_commit` on a connection, as its next transaction would commit.
async fn commit_mode(conn: &mut diesel_async::AsyncPgConnection) -> String {
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        synchronous_commit: String,
    }
    use diesel_async::RunQueryDsl;
    let row: Setting = diesel::sql_query("SHOW synchronous_commit")
        .get_result(conn)
        .await
        .unwrap();
    row.synchronous_commit
}

#[tokio::test(flavor = "multi_thread")]
async fn claims_take_expired_leases_first_and_skip_the_flush_without_leaking_it() {
    let app = TestApp::start().await;
    let a = enqueue(&app, Note { n: 1, fail: false }, &[]).await;
    let after_a = enqueue(&app, Note { n: 2, fail: false }, &[a]).await;
    let mut conn = app.reel.db.get().await.unwrap();
    let before = commit_mode(&mut conn).await;
    assert_eq!(before, "on");

    // The claim is its own unflushed transaction; the setting ends with it, so a job's
    // effects committed later on this pooled connection are durable.
    let row = db::jobs::claim(&mut conn, "tester", 30, &[Note::KIND])
        .await
        .unwrap()
        .expect("a job");
    assert_eq!(row.id, a);
    assert_eq!(commit_mode(&mut conn).await, before);
    assert_eq!(state(&app, a).await, "running");

    // A job whose worker died (its lease ran out) is taken before a ready one, by
    // another claimer, as another attempt.
    let ready = enqueue(&app, Note { n: 3, fail: false }, &[]).await;
    {
        use diesel_async::RunQueryDsl;
        diesel::sql_query(format!(
            "UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = {a}"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let taken = db::jobs::claim(&mut conn, "heir", 30, &[Note::KIND])
        .await
        .unwrap()
        .expect("the expired job");
    assert_eq!((taken.id, taken.attempts), (a, 2));
    assert!(
        !db::jobs::finish_alone(&mut conn, a, "tester")
            .await
            .unwrap()
    );
    let next = db::jobs::claim(&mut conn, "tester", 30, &[Note::KIND])
        .await
        .unwrap()
        .expect("the ready job");
    assert_eq!(next.id, ready);
    let nothing = db::jobs::claim(&mut conn, "tester", 30, &[Note::KIND])
        .await
        .unwrap();
    assert!(nothing.is_none());

    // An end on its own frees what waited for it, like a durable one.
    assert!(db::jobs::finish_alone(&mut conn, a, "heir").await.unwrap());
    assert_eq!(commit_mode(&mut conn).await, before);
    assert_eq!(state(&app, a).await, "done");
    assert_eq!(state(&app, after_a).await, "queued");
    // Not ours any more: refused.
    assert!(
        !db::jobs::finish_alone(&mut conn, a, "tester")
            .await
            .unwrap()
    );
}
