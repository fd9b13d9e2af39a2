//! The `reel` command line: server, worker, migrations, app admin, schema.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use reel::config::Config;
use reel::media::Media;
use reel::{Reel, api, client, db, telemetry};

mod cli;
use cli::app::AppCommand;
use cli::track::TrackCommand;

#[derive(Parser)]
#[command(
    name = "reel",
    version,
    about = "Reel: self-hostable video-on-demand backend",
    long_about = "Reel: resumable uploads, object storage, HLS transcoding, signed playback and a GraphQL API.\n\nConfiguration comes from embedded defaults, then --config FILE (TOML), then REEL_* environment variables (DATABASE_URL, REDIS_URL, REEL_LISTEN, REEL_DATA_DIR, REEL_PUBLIC_URL, REEL_REDIS_PREFIX, and REEL_SECTION__KEY for nested keys)."
)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "REEL_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (GraphQL, tus, REST, media) with embedded workers.
    Serve {
        /// Embedded transcode workers (0 for an API-only node).
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Run transcode workers only.
    Worker {
        /// Also serve `/metrics` and `/healthz` on this `host:port` (the worker's
        /// transcode timings are recorded in its own process).
        #[arg(long, env = "REEL_WORKER_METRICS_LISTEN")]
        metrics_listen: Option<String>,
    },
    /// Create the database if missing and apply pending migrations.
    Migrate,
    /// Manage apps (tenants) and their credentials.
    #[command(subcommand)]
    App(AppCommand),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Media tools for operators.
    #[command(subcommand)]
    Media(MediaCommand),
    /// Client: upload files (tus, resumable: run it again after Ctrl-C to continue).
    Upload {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Follow the transcode and print the play URL when the video is playable.
        #[arg(long)]
        wait: bool,
        /// Transcode priority (higher first).
        #[arg(long)]
        priority: Option<i32>,
        /// Store only; do not transcode.
        #[arg(long)]
        no_transcode: bool,
        /// Upload at most this many bytes per second (e.g. 500k, 20M).
        #[arg(long, value_parser = client::parse_rate)]
        limit_rate: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Client: a video's status.
    Status {
        vid: String,
        #[arg(long)]
        json: bool,
    },
    /// Client: the app's newest videos.
    Videos {
        #[arg(long, default_value_t = 20)]
        first: i64,
        #[arg(long)]
        json: bool,
    },
    /// Client: print a signed play URL.
    Play {
        vid: String,
        /// A CDN by name (default: the server's choice).
        #[arg(long)]
        cdn: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Client: delete a video.
    Delete {
        vid: String,
        #[arg(long)]
        json: bool,
    },
    /// Client: save a video's MP4 download (or the M4A with `--definition AUDIO`).
    Download {
        vid: String,
        /// A rung name (`HD`, …), `HIGHEST` or `AUDIO`; default: the largest made.
        #[arg(long)]
        definition: Option<String>,
        /// The file (or directory) to write; default: `VID-DEFINITION.mp4` here.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Ask the server to make it when it has none, and wait for it.
        #[arg(long)]
        enable: bool,
        /// With --enable: how long to wait, in seconds.
        #[arg(long, default_value_t = 600)]
        wait: u64,
        #[arg(long)]
        json: bool,
    },
    /// Client: a video's subtitles and captions (WebVTT or SRT).
    #[command(subcommand)]
    Track(TrackCommand),
}

#[derive(Subcommand)]
enum MediaCommand {
    /// Probe INPUT and print, as a JSON list, the ffmpeg arguments Reel would run to
    /// transcode it into OUT_DIR (with --per-rung: one ffmpeg per rung, for comparison;
    /// with --chunks: the chunked ladder's split, early pass and each chunk's arguments).
    Plan {
        input: PathBuf,
        out_dir: PathBuf,
        #[arg(long, conflicts_with = "chunks")]
        per_rung: bool,
        #[arg(long)]
        chunks: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Each upload being received holds two blocking threads (digests, file writes), so
    // the pool must outgrow tokio's default of 512 before the upload cap is reached.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(4096)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line a person can act on; no backtrace.
            let causes: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("error: {}", causes.join(": "));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Schema = cli.command {
        print!("{}", api::graphql::sdl());
        return Ok(());
    }
    let cli = match client_command(cli).await {
        Ok(handled) => return handled,
        Err(cli) => *cli,
    };
    let mut config = Config::load(cli.config.as_deref())?;
    telemetry::init(config.log_format);
    match cli.command {
        Command::Schema
        | Command::Upload { .. }
        | Command::Status { .. }
        | Command::Videos { .. }
        | Command::Play { .. }
        | Command::Delete { .. }
        | Command::Download { .. }
        | Command::Track(_) => unreachable!("handled above"),
        Command::Serve { workers } => {
            if let Some(n) = workers {
                config.workers = n;
            }
            serve(config).await
        }
        Command::Worker { metrics_listen } => worker(config, metrics_listen).await,
        Command::Migrate => {
            let timeout = Duration::from_millis(config.database.connect_timeout_ms);
            db::ensure_database(&config.database_url, timeout).await?;
            let applied = db::migrate(&config.database_url).await?;
            if applied.is_empty() {
                println!("database is up to date");
            } else {
                println!("applied migrations: {}", applied.join(", "));
            }
            Ok(())
        }
        Command::App(cmd) => cli::app::run(config, cmd).await,
        // Needs ffprobe only: no database, Redis or storage.
        Command::Media(MediaCommand::Plan {
            input,
            out_dir,
            per_rung,
            chunks,
        }) => {
            let media = Media::new(&config.media);
            let (_, plan) = media.plan_file(&input, 10).await?;
            let out = if chunks {
                serde_json::to_string_pretty(&media.chunked_plan(&plan, &input, &out_dir).await?)?
            } else if per_rung {
                serde_json::to_string(&plan.per_rung_args(&input, &out_dir))?
            } else {
                serde_json::to_string(&plan.ffmpeg_args(&input, &out_dir))?
            };
            println!("{out}");
            Ok(())
        }
    }
}

/// Runs the client commands; gives other commands back.
async fn client_command(cli: Cli) -> Result<anyhow::Result<()>, Box<Cli>> {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    let out = |json: bool| client::Output {
        json,
        tty: tty && !json,
    };
    let connect = || -> anyhow::Result<client::Client> {
        Ok(client::Client::new(client::ClientConfig::load()?)?)
    };
    let result = match cli.command {
        Command::Upload {
            ref files,
            wait,
            priority,
            no_transcode,
            limit_rate,
            json,
        } => {
            let options = client::UploadOptions {
                wait,
                priority,
                transcode: !no_transcode,
                limit_rate,
            };
            async {
                let c = connect()?;
                client::upload(&c, files, &options, &out(json)).await?;
                Ok(())
            }
            .await
        }
        Command::Status { ref vid, json } => {
            async { Ok(client::status(&connect()?, vid, &out(json)).await?) }.await
        }
        Command::Videos { first, json } => {
            async { Ok(client::videos(&connect()?, first, &out(json)).await?) }.await
        }
        Command::Play {
            ref vid,
            ref cdn,
            json,
        } => async { Ok(client::play(&connect()?, vid, cdn.as_deref(), &out(json)).await?) }.await,
        Command::Delete { ref vid, json } => {
            async { Ok(client::delete(&connect()?, vid, &out(json)).await?) }.await
        }
        Command::Download {
            ref vid,
            ref definition,
            ref output,
            enable,
            wait,
            json,
        } => {
            let options = client::DownloadOptions {
                definition: definition.clone(),
                output: output.clone(),
                enable,
                wait: std::time::Duration::from_secs(wait),
            };
            async { Ok(client::download(&connect()?, vid, &options, &out(json)).await?) }.await
        }
        Command::Track(ref cmd) => async { cli::track::run(&connect()?, cmd, tty).await }.await,
        _ => return Err(Box::new(cli)),
    };
    Ok(result)
}

async fn serve(mut config: Config) -> anyhow::Result<()> {
    let listen = config.listen.clone();
    let (acceptor, addr) = api::bind(&listen).await.with_context(|| {
        format!("cannot listen on {listen} (set REEL_LISTEN to another host:port)")
    })?;
    if config.public_url.is_empty() {
        // URLs handed out (tus Location, …) name the port actually bound.
        config.public_url = format!("http://{addr}");
    }
    let reel = Reel::start(config, true).await?;
    let sweep_every = Duration::from_secs(reel.config.upload.sweep_interval_secs.max(1));
    reel.uploads.clone().spawn_sweeper(sweep_every);
    let background = reel.spawn_background(reel.config.workers);
    tracing::info!(%addr, public_url = %reel.config.public_base(), "reel is listening");
    eprintln!("reel listening on http://{addr}  (GraphiQL: http://{addr}/graphiql)");
    if reel.config.playground.enabled {
        print_playground_link(&reel).await;
    }
    api::serve(acceptor, reel, api::shutdown_signal()).await?;
    background.stop().await;
    tracing::info!("stopped");
    Ok(())
}

/// Signs the browser in to a local `playground` app, when the playground is served, with
/// a short-lived token that may do what the playground does (no `MANAGE`).
async fn print_playground_link(reel: &Reel) {
    let cfg = &reel.config.playground;
    if !cfg.dir.join("index.html").is_file() {
        eprintln!(
            "playground: not built ({} missing); run `npm ci --prefix playground && npm run build --prefix playground`",
            cfg.dir.display()
        );
        return;
    }
    let link = async {
        let app = reel.apps.ensure("playground").await.ok()?;
        let scopes = reel::auth::Scopes::DEFAULT;
        reel.auth.token_for(&app, cfg.token_ttl_secs, scopes).ok()
    }
    .await;
    match link {
        Some(token) => eprintln!(
            "playground: {}/playground/#token={}  (valid until {})",
            reel.config.public_base(),
            token.token,
            token.expires_at.format("%Y-%m-%d %H:%M UTC")
        ),
        None => tracing::warn!("could not create the playground app"),
    }
}

async fn worker(config: Config, metrics_listen: Option<String>) -> anyhow::Result<()> {
    let reel = Reel::start(config, true).await?;
    let background = reel.spawn_background(reel.config.workers.max(1));
    let metrics = match metrics_listen {
        Some(addr) => {
            let (acceptor, local) = api::bind(&addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (--metrics-listen)"))?;
            eprintln!("reel worker metrics on http://{local}/metrics");
            let mut stopped = background.stopped();
            let endpoint = api::worker_routes(reel.clone());
            let server_config = reel.config.server.clone();
            Some(tokio::spawn(async move {
                let stop = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                api::serve_endpoint(acceptor, endpoint, &server_config, stop).await
            }))
        }
        None => None,
    };
    api::shutdown_signal().await;
    background.stop().await;
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    Ok(())
}
