//! `reel track …`: a video's subtitles and captions, as a client of a server (the same
//! `REEL_SERVER`, `REEL_APP_KEY`, `REEL_APP_SECRET` as `reel upload`).

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use reel::client::{self, Client, Output, TrackOptions};
use reel::model::TextTrackKind;

#[derive(Subcommand)]
pub enum TrackCommand {
    /// Add a WebVTT or SRT file (UTF-8, at most 2 MiB) to a video; it replaces the
    /// video's track of the same language and kind.
    Add {
        vid: String,
        file: PathBuf,
        /// Language tag: en, fr, pt-BR, …
        #[arg(long)]
        lang: String,
        /// The label players show (default: the language tag).
        #[arg(long)]
        name: Option<String>,
        /// Captions also describe the sound, for viewers who cannot hear it.
        #[arg(long, value_enum, default_value_t = Kind::Subtitles)]
        kind: Kind,
        /// Players select this track unless told otherwise.
        #[arg(long)]
        default: bool,
        #[arg(long)]
        json: bool,
    },
    /// List a video's text tracks: id, language, kind, URL.
    List {
        vid: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a text track by its id.
    Delete {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Subtitles,
    Captions,
}

impl From<Kind> for TextTrackKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Subtitles => Self::Subtitles,
            Kind::Captions => Self::Captions,
        }
    }
}

/// Runs one `reel track` command; `tty`: whether stderr is a terminal.
pub async fn run(client: &Client, cmd: &TrackCommand, tty: bool) -> anyhow::Result<()> {
    let out = |json: bool| Output {
        json,
        tty: tty && !json,
    };
    match cmd {
        TrackCommand::Add {
            vid,
            file,
            lang,
            name,
            kind,
            default,
            json,
        } => {
            let options = TrackOptions {
                language: lang.clone(),
                name: name.clone(),
                kind: (*kind).into(),
                default: *default,
            };
            client::add_track(client, vid, file, &options, &out(*json)).await?
        }
        TrackCommand::List { vid, json } => client::list_tracks(client, vid, &out(*json)).await?,
        TrackCommand::Delete { id, json } => client::delete_track(client, id, &out(*json)).await?,
    }
    Ok(())
}
