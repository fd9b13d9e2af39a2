//! `reel app …`: create and list apps, rotate a secret (docs/operations.md, "Apps and
//! their secrets").

use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use serde_json::json;

use super::watermark::WatermarkCommand;

use reel::apps::{AppService, Credentials};
use reel::config::Config;
use reel::db;
use reel::sealing::SecretBox;

#[derive(Subcommand)]
pub enum AppCommand {
    /// Create an app and print its app_key and app_secret.
    Create {
        name: String,
        /// Print {"app_key": …, "app_secret": …} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List apps (keys only; secrets are never listed).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Give an app (by name or app_key) a new secret and print it. The old secret, and
    /// browser tokens signed with it, keep working for the grace period, then stop.
    RotateSecret {
        app: String,
        /// How long the old secret stays valid (e.g. 30m, 24h, 7d; 0 ends it now).
        #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
        grace: Duration,
        #[arg(long)]
        json: bool,
    },
    /// Encrypt every upload of an app (by name or app_key) with AES-128 HLS (`on`), or
    /// leave it to each upload (`off`, the default).
    Encrypt {
        app: String,
        #[arg(value_parser = ["on", "off"])]
        setting: String,
    },
    /// The MP4/M4A downloads every new video of an app gets: comma-separated
    /// definitions (`HIGHEST`, rung names, `AUDIO`), or `none`.
    Downloads { app: String, definitions: String },
    /// Watermark profiles of an app: list, create from an image file, make default,
    /// delete (docs/api.md, "Watermarks").
    Watermark {
        #[command(subcommand)]
        command: WatermarkCommand,
    },
}

pub async fn run(config: Config, cmd: AppCommand) -> anyhow::Result<()> {
    let timeout = Duration::from_millis(config.database.connect_timeout_ms);
    db::ensure_database(&config.database_url, timeout).await?;
    db::migrate(&config.database_url).await?;
    let pool = db::connect(&config.database_url, &config.database).await?;
    let sealing = SecretBox::new(
        config.auth.master_key.get(),
        config.auth.previous_master_key.get(),
    )?;
    let apps = AppService::new(pool.clone(), Arc::new(sealing));
    match cmd {
        AppCommand::Watermark { command } => {
            super::watermark::run(&config, pool, &apps, command).await?;
        }
        AppCommand::Create { name, json } => {
            let created = apps.create(&name).await?;
            print_credentials(&created, json, "created app");
        }
        AppCommand::RotateSecret { app, grace, json } => {
            let rotated = apps.rotate_secret(&app, grace).await?;
            print_credentials(&rotated, json, "new secret for app");
        }
        AppCommand::Downloads { app, definitions } => {
            let given: Vec<&str> = match definitions.trim() {
                "none" | "" => Vec::new(),
                list => list.split(',').collect(),
            };
            let checked = reel::video::downloads::parse_definitions(&given)?;
            let app = apps.set_default_downloads(&app, &checked).await?;
            let shown = if checked.is_empty() {
                "none".into()
            } else {
                checked.join(",")
            };
            println!("{}	{}	downloads: {shown}", app.app_key, app.name);
        }
        AppCommand::Encrypt { app, setting } => {
            let app = apps.set_encrypt_uploads(&app, setting == "on").await?;
            println!("{}\t{}\tencrypt uploads: {setting}", app.app_key, app.name);
        }
        AppCommand::List { json } => {
            let list = apps.list().await?;
            if json {
                let rows: Vec<_> = list
                    .iter()
                    .map(|a| json!({"name": a.name, "app_key": a.app_key, "created_at": a.created_at}))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for a in list {
                    println!(
                        "{}\t{}\t{}",
                        a.app_key,
                        a.name,
                        a.created_at.format("%Y-%m-%d %H:%M:%S")
                    );
                }
            }
        }
    }
    Ok(())
}

fn print_credentials(c: &Credentials, json: bool, what: &str) {
    if json {
        let out = json!({
            "name": c.app.name,
            "app_key": c.app.app_key,
            "app_secret": c.secret,
            "previous_secret_valid_until": c.previous_valid_until,
        });
        println!("{out}");
        return;
    }
    println!("{what} {:?}", c.app.name);
    println!("app_key:    {}", c.app.app_key);
    println!("app_secret: {}", c.secret);
    if let Some(until) = c.previous_valid_until {
        println!(
            "The old secret stays valid until {}.",
            until.format("%Y-%m-%d %H:%M:%S UTC")
        );
    }
    println!("Keep the secret safe: it signs API requests and browser tokens.");
}
