//! `videoEvents` subscriptions whose selection runs once per event on a node
//! (docs/architecture.md, "Live events"). Subscribers of one app that sent the same
//! document, operation and variables share one rendering of each event, where each used to
//! run the selection on its own: one event to 10,000 subscribers of an app was 10,000
//! executions (issue 18). Each subscriber keeps its own event stream, so one that falls
//! behind is still sent current states instead of a gap, and rendering those is shared too.

use std::any::TypeId;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection,
};
use async_graphql::{Data, Executor, Request, Response, ServerError, Variables};
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::OnceCell;

use super::ReelSchema;
use super::subscription::{GivenEvent, VIDEO_EVENTS};
use crate::Reel;
use crate::auth::Caller;
use crate::events::VideoEvent;
use crate::model::AppId;

/// Events whose rendering a renderer keeps for subscribers a little behind the others.
const KEPT_RENDERINGS: usize = 16;

/// The node's renderers, one per app and request while anyone subscribes with it.
#[derive(Clone, Default)]
pub struct Renderers(Arc<Mutex<HashMap<Key, Weak<Renderer>>>>);

/// What subscribers must have in common to share a rendering.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    app: AppId,
    query: String,
    operation: Option<String>,
    variables: String,
}

impl Renderers {
    /// The renderer for `key`, made with the first subscriber's session (its caller is
    /// of the same app, and every subscriber's own request was checked before joining).
    fn get(
        &self,
        key: Key,
        variables: Variables,
        schema: &ReelSchema,
        session: &Arc<Data>,
    ) -> Arc<Renderer> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(renderer) = map.get(&key).and_then(Weak::upgrade) {
            return renderer;
        }
        map.retain(|_, renderer| renderer.strong_count() > 0);
        let renderer = Arc::new(Renderer {
            schema: schema.clone(),
            session: session.clone(),
            query: key.query.clone(),
            operation: key.operation.clone(),
            variables,
            recent: Mutex::new(VecDeque::with_capacity(KEPT_RENDERINGS)),
        });
        map.insert(key, Arc::downgrade(&renderer));
        renderer
    }
}

/// Renders events for every subscriber of one key.
struct Renderer {
    schema: ReelSchema,
    session: Arc<Data>,
    query: String,
    operation: Option<String>,
    variables: Variables,
    /// The latest events rendered (or being rendered), newest last.
    recent: Mutex<VecDeque<Arc<Rendering>>>,
}

/// One event's response; the first subscriber to want it renders it, the others wait.
struct Rendering {
    event: VideoEvent,
    response: OnceCell<Response>,
}

impl Renderer {
    async fn render(&self, event: VideoEvent) -> Response {
        let rendering = self.rendering_of(event);
        let response = rendering
            .response
            .get_or_init(|| self.execute(rendering.event.clone()))
            .await;
        let mut copy = Response::new(response.data.clone());
        copy.extensions = response.extensions.clone();
        copy.errors = response.errors.clone();
        copy
    }

    fn rendering_of(&self, event: VideoEvent) -> Arc<Rendering> {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rendering) = recent.iter().rev().find(|r| r.event == event) {
            return rendering.clone();
        }
        let rendering = Arc::new(Rendering {
            event,
            response: OnceCell::new(),
        });
        if recent.len() == KEPT_RENDERINGS {
            recent.pop_front();
        }
        recent.push_back(rendering.clone());
        rendering
    }

    /// The subscription's selection on `event` alone.
    async fn execute(&self, event: VideoEvent) -> Response {
        metrics::counter!(crate::metrics::EVENT_RENDERINGS).increment(1);
        let request = given_request(&self.query, &self.operation, &self.variables, Some(event));
        let mut responses =
            Executor::execute_stream(&self.schema, request, Some(self.session.clone()));
        match responses.next().await {
            Some(response) => response,
            None => Response::from_errors(vec![ServerError::new("no response", None)]),
        }
    }
}

fn given_request(
    query: &str,
    operation: &Option<String>,
    variables: &Variables,
    given: Option<VideoEvent>,
) -> Request {
    let mut request = Request::new(query).variables(variables.clone());
    if let Some(name) = operation {
        request = request.operation_name(name);
    }
    request.data(GivenEvent(given))
}

/// The executor of `/graphql/ws`: the schema's, except that `videoEvents` subscriptions
/// share their renderings.
#[derive(Clone)]
pub struct SocketExecutor {
    pub schema: ReelSchema,
    pub reel: Reel,
    pub renderers: Renderers,
}

impl Executor for SocketExecutor {
    async fn execute(&self, request: Request) -> Response {
        self.schema.execute(request).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let caller = session.as_deref().and_then(caller_of).cloned();
        let (Some(session), Some(caller)) = (session.clone(), caller) else {
            return Executor::execute_stream(&self.schema, request, session);
        };
        // Parsed once here: the check below runs on the same request.
        let mut request = request;
        let operation = request.operation_name.clone();
        let shared = request
            .parsed_query()
            .is_ok_and(|document| only_video_events(document, operation.as_deref()));
        if !shared {
            return Executor::execute_stream(&self.schema, request, Some(session));
        }
        let key = Key {
            app: caller.app_id,
            variables: serde_json::to_string(&request.variables).unwrap_or_default(),
            query: request.query.clone(),
            operation,
        };
        let variables = request.variables.clone();
        let (schema, reel, renderers) = (
            self.schema.clone(),
            self.reel.clone(),
            self.renderers.clone(),
        );
        // This subscriber's own request, with nothing to render: what it would be refused
        // (a bad document, a missing scope) it is told as if it ran alone.
        let check = request.data(GivenEvent(None));
        let refusals = Executor::execute_stream(&schema, check, Some(session.clone()));
        stream::once(async move {
            let refused: Vec<Response> = refusals.collect().await;
            if !refused.is_empty() {
                return stream::iter(refused).boxed();
            }
            let renderer = renderers.get(key, variables, &schema, &session);
            let open = crate::metrics::GaugeGuard::new(crate::metrics::SUBSCRIPTIONS);
            let events = reel.events.app_events(caller.app_id).map(move |event| {
                let _open = &open;
                event
            });
            // Boxed: an idle subscriber holds no room for a rendering in progress.
            events
                .then(move |event| {
                    let renderer = renderer.clone();
                    Box::pin(async move { renderer.render(event).await })
                })
                .boxed()
        })
        .flatten()
        .boxed()
    }
}

fn caller_of(session: &Data) -> Option<&Caller> {
    session.get(&TypeId::of::<Caller>())?.downcast_ref()
}

/// Whether the operation to run is a subscription to `videoEvents` and nothing else.
fn only_video_events(document: &ExecutableDocument, operation: Option<&str>) -> bool {
    let operation = match (&document.operations, operation) {
        (DocumentOperations::Single(op), None) => op,
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().expect("one")
        }
        (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name) {
            Some(op) => op,
            None => return false,
        },
        _ => return false,
    };
    let operation = &operation.node;
    let fields = &operation.selection_set.node.items;
    operation.ty == OperationType::Subscription
        && fields.len() == 1
        && matches!(&fields[0].node, Selection::Field(f) if f.node.name.node == VIDEO_EVENTS)
}

#[cfg(test)]
mod tests {
    /// Whether `query` parses and its `operation` is shared.
    fn only_video_events(query: &str, operation: Option<&str>) -> bool {
        async_graphql::parser::parse_query(query)
            .is_ok_and(|document| super::only_video_events(&document, operation))
    }

    #[test]
    fn only_a_lone_video_events_subscription_is_shared() {
        let shared = [
            ("subscription { videoEvents { videoId status } }", None),
            ("subscription Watch { feed: videoEvents { at } }", None),
            (
                "subscription A { videoEvents { at } } query B { __typename }",
                Some("A"),
            ),
        ];
        for (query, operation) in shared {
            assert!(only_video_events(query, operation), "{query}");
        }
        let alone = [
            ("subscription { videoStatus(id: \"v\") { status } }", None),
            ("subscription { videoEvents { at } __typename }", None),
            ("query { videoEvents { at } }", None),
            (
                "subscription A { videoEvents { at } } query B { __typename }",
                None,
            ),
            ("subscription { videoEvents { at } }", Some("Other")),
            ("subscription { videoEvents {", None),
        ];
        for (query, operation) in alone {
            assert!(!only_video_events(query, operation), "{query}");
        }
    }
}
