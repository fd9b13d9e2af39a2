//! `reel app watermark …`: an app's watermark profiles from the operator's shell, through
//! the same service as GraphQL (docs/api.md, "Watermarks").

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use reel::apps::AppService;
use reel::apps::watermarks::{
    ImageSource, Placement, Watermark, WatermarkInput, WatermarkService, WatermarkUpdate,
};
use reel::config::Config;
use reel::db::DbPool;
use reel::media::Media;
use reel::model::{WatermarkId, WatermarkPosition};
use reel::storage::Storage;

#[derive(Subcommand)]
pub enum WatermarkCommand {
    /// List the profiles of an app (by name or app_key).
    List {
        app: String,
        #[arg(long)]
        json: bool,
    },
    /// Add a profile from an image file (PNG, JPEG or WebP, at most 2 MiB).
    Create {
        app: String,
        name: String,
        image: PathBuf,
        /// TOP_LEFT, TOP_RIGHT, BOTTOM_LEFT, BOTTOM_RIGHT or CENTER.
        #[arg(long, default_value = "TOP_RIGHT")]
        position: WatermarkPosition,
        /// Space to the edges, as a fraction of the video's width.
        #[arg(long, default_value_t = 0.02)]
        margin: f64,
        /// The overlay's width as a fraction of the video's width.
        #[arg(long, default_value_t = 0.15)]
        scale: f64,
        /// 0 (invisible) to 1 (opaque).
        #[arg(long, default_value_t = 1.0)]
        opacity: f64,
        /// Burn it into every upload of the app that names no other profile.
        #[arg(long)]
        default: bool,
        #[arg(long)]
        json: bool,
    },
    /// Make a profile the app's default, or (`--off`) leave the app without one.
    Default {
        app: String,
        id: WatermarkId,
        #[arg(long)]
        off: bool,
    },
    /// Delete a profile and its image (videos that chose it get the app's default).
    Delete { app: String, id: WatermarkId },
}

pub async fn run(
    config: &Config,
    pool: DbPool,
    apps: &AppService,
    cmd: WatermarkCommand,
) -> anyhow::Result<()> {
    let storage = Storage::open(&config.storage, &config.data_dir)?;
    let media = Media::new(&config.media);
    let watermarks = WatermarkService::new(pool, storage, media, config.data_dir.join("tmp"));
    match cmd {
        WatermarkCommand::List { app, json } => {
            let app = apps.find(&app).await?;
            let list = watermarks.list(app.id).await?;
            match json {
                true => println!("{}", serde_json::Value::from_iter(list.iter().map(as_json))),
                false => list.iter().for_each(print_row),
            }
        }
        WatermarkCommand::Create {
            app,
            name,
            image,
            position,
            margin,
            scale,
            opacity,
            default,
            json,
        } => {
            let app = apps.find(&app).await?;
            let bytes = std::fs::read(&image)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", image.display()))?;
            let input = WatermarkInput {
                name,
                image: ImageSource::Bytes(bytes),
                placement: Placement {
                    position,
                    margin,
                    scale,
                    opacity,
                },
                default,
            };
            let created = watermarks.create(app.id, input).await?;
            match json {
                true => println!("{}", as_json(&created)),
                false => print_row(&created),
            }
        }
        WatermarkCommand::Default { app, id, off } => {
            let app = apps.find(&app).await?;
            let update = WatermarkUpdate {
                default: Some(!off),
                ..WatermarkUpdate::default()
            };
            print_row(&watermarks.update(app.id, id, update).await?);
        }
        WatermarkCommand::Delete { app, id } => {
            let app = apps.find(&app).await?;
            watermarks.delete(app.id, id).await?;
            println!("deleted watermark {id}");
        }
    }
    Ok(())
}

fn as_json(w: &Watermark) -> serde_json::Value {
    json!({
        "id": w.id, "name": w.name, "position": w.position().as_str(), "margin": w.margin,
        "scale": w.scale, "opacity": w.opacity, "default": w.is_default,
        "image_format": w.image_format, "image_width": w.image_width,
        "image_height": w.image_height, "image_size": w.image_bytes,
    })
}

fn print_row(w: &Watermark) {
    println!(
        "{}\t{}\t{}\tmargin {}\tscale {}\topacity {}\t{}x{} {}{}",
        w.id,
        w.name,
        w.position(),
        w.margin,
        w.scale,
        w.opacity,
        w.image_width,
        w.image_height,
        w.image_format,
        if w.is_default { "\tdefault" } else { "" }
    );
}
