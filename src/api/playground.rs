//! `/playground/` and `/graphiql`: the built web apps (static files, no data; their API
//! calls are authenticated), or a page saying how to build them. Both come from the
//! playground's build, so neither needs the internet.

use poem::endpoint::StaticFilesEndpoint;
use poem::http::StatusCode;
use poem::web::{Html, Redirect};
use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Response, endpoint::make_sync};

use crate::config::PlaygroundConfig;

pub fn endpoint(cfg: &PlaygroundConfig) -> impl Endpoint<Output = Response> + use<> {
    let index = cfg.dir.join("index.html");
    if cfg.enabled && index.is_file() {
        return StaticFilesEndpoint::new(&cfg.dir)
            .index_file("index.html")
            .into_endpoint()
            .map_to_response()
            // The app's URLs are relative to `/playground/`.
            .around(|ep, req| async move {
                if req.original_uri().path() == "/playground" {
                    return Ok(Redirect::permanent("/playground/").into_response());
                }
                ep.call(req).await
            })
            .boxed();
    }
    let message = if cfg.enabled {
        format!(
            "<h1>The playground is not built</h1><p>Run <code>npm ci --prefix playground &amp;&amp; npm run build --prefix playground</code> \
             (<code>scripts/run</code> does it), then reload. Looked for <code>{}</code>.</p>",
            index.display()
        )
    } else {
        "<h1>The playground is disabled</h1><p>Set <code>playground.enabled = true</code>.</p>"
            .into()
    };
    make_sync(move |_| {
        Html(message.clone())
            .with_status(StatusCode::NOT_FOUND)
            .into_response()
    })
    .boxed()
}

/// `/graphiql`: GraphiQL as the playground's build bundles it (`{playground.dir}/graphiql`).
pub fn graphiql(cfg: &PlaygroundConfig) -> impl Endpoint<Output = Response> + use<> {
    let dir = cfg.dir.join("graphiql");
    if dir.join("index.html").is_file() {
        return StaticFilesEndpoint::new(dir)
            .index_file("index.html")
            .into_endpoint()
            .map_to_response()
            .boxed();
    }
    let message = format!(
        "<h1>GraphiQL is not built</h1><p>It is built with the playground: run <code>npm ci --prefix playground &amp;&amp; npm run build --prefix playground</code> \
         (<code>scripts/run</code> does it), then reload. Looked for <code>{}</code>.</p>",
        dir.join("index.html").display()
    );
    make_sync(move |_| {
        Html(message.clone())
            .with_status(StatusCode::NOT_FOUND)
            .into_response()
    })
    .boxed()
}
