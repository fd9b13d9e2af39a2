//! GraphQL over HTTP (`/graphql`) and WebSocket (`/graphql/ws`, both sub-protocols).

mod derived;
mod enums;
pub(crate) mod errors;
mod images;
mod loaders;
mod media_info;
mod mutation;
mod playback;
mod query;
mod shared;
mod socket;
mod subscription;
mod tracks;
mod types;
mod upload;
mod watermark;
mod webhook;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Schema, SchemaBuilder};
use async_graphql_poem::{GraphQLProtocol, GraphQLRequest, GraphQLResponse};
use poem::web::Data as Ext;
use poem::web::websocket::WebSocket;
use poem::{IntoResponse, handler};

use crate::Reel;
use crate::auth::Caller;
use crate::error::ErrorCode;

pub use shared::Renderers;
pub use subscription::Subscription;

/// The query root, merged from each domain's part.
#[derive(async_graphql::MergedObject, Default)]
pub struct Query(
    query::VideoQuery,
    upload::UploadQuery,
    webhook::WebhookQuery,
    watermark::WatermarkQuery,
);

/// The mutation root, merged from each domain's part.
#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(
    mutation::VideoMutation,
    upload::UploadMutation,
    webhook::WebhookMutation,
    tracks::TrackMutation,
    derived::DerivedMutation,
    watermark::WatermarkMutation,
);

pub type ReelSchema = Schema<Query, Mutation, Subscription>;

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
}

/// The executable schema, with the limits from the config.
pub fn build(reel: Reel) -> ReelSchema {
    let limits = reel.config.graphql.clone();
    let (renditions, snapshots) = loaders::loaders(&reel.videos);
    builder()
        .data(renditions)
        .data(snapshots)
        .data(reel)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .finish()
}

/// The SDL that `reel schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    builder().finish().sdl()
}

#[handler]
pub async fn http(
    schema: Ext<&ReelSchema>,
    caller: Ext<&Caller>,
    req: GraphQLRequest,
) -> GraphQLResponse {
    schema.execute(req.0.data(caller.0.clone())).await.into()
}

#[handler]
pub async fn websocket(
    schema: Ext<&ReelSchema>,
    renderers: Ext<&Renderers>,
    reel: Ext<&Reel>,
    caller: Option<Ext<&Caller>>,
    protocol: GraphQLProtocol,
    websocket: WebSocket,
) -> poem::Response {
    let executor = shared::SocketExecutor {
        schema: schema.clone(),
        reel: reel.clone(),
        renderers: renderers.clone(),
    };
    let reel = reel.clone();
    let upgraded_as = caller.map(|c| c.0.clone());
    let Some(place) = socket::Place::take(reel.config.server.ws_max_connections) else {
        let message = "this node holds as many live connections as it may; retry (another node)";
        let mut refused = crate::api::error_response(ErrorCode::Unavailable, message);
        refused
            .headers_mut()
            .insert("Retry-After", poem::http::HeaderValue::from_static("1"));
        return refused;
    };
    websocket
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .config(socket::config(&reel))
        .on_upgrade(move |stream| async move {
            socket::serve(stream, executor, protocol.0, reel, upgraded_as).await;
            drop(place);
        })
        .into_response()
}
