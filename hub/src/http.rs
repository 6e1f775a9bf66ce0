//! The HTTP surface: the router factory and its handlers.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{
    DefaultBodyLimit, FromRequestParts, OptionalFromRequestParts, Path, Query, State,
};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use room_protocol::urls::LinkKind;
use room_protocol::{
    snapshot_signing_message, token_from_subprotocols, urls, SnapshotLink, Token, MAX_FRAME_BYTES,
    SNAPSHOT_LINK_SECONDS, SUBPROTOCOL,
};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_util::io::ReaderStream;
use tower_http::cors::{Any, CorsLayer};

use crate::error::HttpError;
use crate::room::Room;
use crate::serve::OpenSockets;
use crate::snapshot::{now_secs, sign_hex, stream_tar, verify_link};
use crate::tokens::Access;
use crate::web::WebApp;
use crate::ws::{count_attempt, serve_connection, Admission, Heartbeat};

/// Largest body `POST /rooms/{id}/events` accepts.
pub const MAX_EVENT_BODY_BYTES: usize = 64 * 1024;

/// Longest event `kind`.
pub const MAX_EVENT_KIND_CHARS: usize = 64;

/// What every handler shares.
#[derive(Debug)]
pub struct HubState {
    /// Rooms by id.
    pub rooms: HashMap<String, Arc<Room>>,
    /// Heartbeat settings for WebSocket connections.
    pub heartbeat: Heartbeat,
    /// A built web app to serve at `/` and `/rooms/{id}/`, if any.
    pub web: Option<Arc<WebApp>>,
    /// The WebSockets open, counted against the connection cap.
    pub sockets: OpenSockets,
    /// The address others open (`--public-url`), for the links the host
    /// gets back when replacing one; else the address the host's request
    /// came to.
    pub public_url: Option<String>,
}

impl HubState {
    /// A hub serving `rooms` with default heartbeats and no web app.
    pub fn new(rooms: impl IntoIterator<Item = Arc<Room>>) -> Self {
        Self {
            rooms: rooms
                .into_iter()
                .map(|room| (room.id().to_owned(), room))
                .collect(),
            heartbeat: Heartbeat::default(),
            web: None,
            sockets: OpenSockets::default(),
            public_url: None,
        }
    }
}

/// The hub's router.
pub fn app(state: Arc<HubState>) -> Router {
    let mut router = Router::new()
        .route(urls::HEALTH_ROUTE, get(healthz))
        .route(urls::SOCKET_ROUTE, get(websocket))
        .route(
            urls::EVENTS_ROUTE,
            post(post_event).layer(DefaultBodyLimit::max(MAX_EVENT_BODY_BYTES)),
        )
        .route(urls::SNAPSHOT_ROUTE, get(snapshot))
        .route(
            urls::SNAPSHOT_LINK_ROUTE,
            // A page served from elsewhere (trunk serve during development)
            // asks across origins. No cookies are involved: the token in
            // the header is the whole authority, so any origin may ask.
            post(snapshot_link).layer(
                CorsLayer::new()
                    .allow_origin(Any)
                    .allow_methods([Method::POST])
                    .allow_headers([header::AUTHORIZATION]),
            ),
        );
    // The host's link management; a page on another origin (trunk serve)
    // asks across origins, as for snapshot links.
    let links_cors = || {
        CorsLayer::new()
            .allow_origin(Any)
            .allow_methods([Method::POST, Method::DELETE])
            .allow_headers([header::AUTHORIZATION])
    };
    router = router
        .route(
            urls::EDIT_LINK_ROUTE,
            post(replace_edit_link).layer(links_cors()),
        )
        .route(
            urls::VIEW_LINK_ROUTE,
            post(replace_view_link)
                .delete(turn_view_link_off)
                .layer(links_cors()),
        );
    if let Some(web) = &state.web {
        // A share link opens the app: /rooms/{id}/ is the app's page, and
        // the app's assets are served from the root.
        router = router.merge(web.routes(urls::PAGE_ROUTE));
    }
    router.with_state(state)
}

/// The room named by the `{room_id}` in the path. As an extractor it
/// refuses an unknown id with [`HttpError::UnknownRoom`]; as
/// `Option<RoomInPath>` it lets the handler answer that itself.
struct RoomInPath(Arc<Room>);

impl OptionalFromRequestParts<Arc<HubState>> for RoomInPath {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        hub: &Arc<HubState>,
    ) -> Result<Option<Self>, HttpError> {
        let Path(room_id) = <Path<String> as FromRequestParts<_>>::from_request_parts(parts, hub)
            .await
            .map_err(|_| HttpError::UnknownRoom)?;
        Ok(hub.rooms.get(&room_id).cloned().map(Self))
    }
}

impl FromRequestParts<Arc<HubState>> for RoomInPath {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<HubState>) -> Result<Self, HttpError> {
        <Self as OptionalFromRequestParts<_>>::from_request_parts(parts, hub)
            .await?
            .ok_or(HttpError::UnknownRoom)
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: Option<String>,
}

async fn websocket(
    ws: WebSocketUpgrade,
    room: Option<RoomInPath>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
    State(hub): State<Arc<HubState>>,
) -> Response {
    let offered = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let from_subprotocol = token_from_subprotocols(offered);
    let token = from_subprotocol.or(query.token.as_deref());
    let admission = match room {
        None => Admission::UnknownRoom,
        Some(RoomInPath(room)) => {
            let admission = match token.and_then(|t| room.secrets().access_for(t)) {
                Some(access) => Admission::Admitted(
                    Arc::clone(&room),
                    access,
                    Token::new(token.unwrap_or_default().to_owned()),
                ),
                None => Admission::Unauthorized,
            };
            count_attempt(&room, &admission);
            if from_subprotocol.is_none() && matches!(admission, Admission::Admitted(..)) {
                room.stats.query_token.fetch_add(1, Ordering::Relaxed);
            }
            admission
        }
    };
    let heartbeat = hub.heartbeat;
    let open = hub.sockets.hold();
    // The upgrade completes even for refusals: a browser cannot read the
    // status of a refused upgrade, but it can read a close code.
    ws.protocols([SUBPROTOCOL])
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            serve_connection(socket, admission, heartbeat).await;
            drop(open);
        })
}

async fn healthz(State(hub): State<Arc<HubState>>) -> Response {
    let mut rooms = serde_json::Map::new();
    for (id, room) in &hub.rooms {
        let (project, head) = room.version().await;
        rooms.insert(
            id.clone(),
            json!({
                "head": head,
                "project": project,
                "peers": room.peer_count().await,
                "connections": {
                    "attempts": room.stats.attempts.load(Ordering::Relaxed),
                    "unauthorized": room.stats.unauthorized.load(Ordering::Relaxed),
                    "welcomed": room.stats.welcomed.load(Ordering::Relaxed),
                    "queryToken": room.stats.query_token.load(Ordering::Relaxed),
                },
            }),
        );
    }
    Json(json!({ "ok": true, "rooms": rooms })).into_response()
}

#[derive(Deserialize)]
struct EventBody {
    kind: String,
    #[serde(default)]
    data: Value,
}

async fn post_event(
    RoomInPath(room): RoomInPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    match bearer(&headers).and_then(|t| room.secrets().access_for(t)) {
        Some(Access::Host | Access::Edit) => {}
        Some(Access::ReadOnly) => return Err(HttpError::ReadOnly),
        None => return Err(HttpError::NeedsEditToken),
    }
    let event: EventBody = serde_json::from_slice(&body).map_err(|e| {
        HttpError::BadRequest(format!(
            "expected {{\"kind\": string, \"data\": any}}: error at line {} column {}",
            e.line(),
            e.column()
        ))
    })?;
    if event.kind.is_empty() || event.kind.chars().count() > MAX_EVENT_KIND_CHARS {
        return Err(HttpError::BadRequest(format!(
            "kind must be 1 to {MAX_EVENT_KIND_CHARS} characters"
        )));
    }
    let rev = room.append_event(&event.kind, event.data).await;
    Ok((StatusCode::CREATED, Json(json!({ "rev": rev }))).into_response())
}

/// Refuses anyone but the host: 401 without a token of the room, 403 with
/// an edit or view token.
fn host_only(room: &Room, headers: &HeaderMap) -> Result<(), HttpError> {
    match bearer(headers).and_then(|t| room.secrets().access_for(t)) {
        Some(Access::Host) => Ok(()),
        Some(Access::Edit | Access::ReadOnly) => Err(HttpError::NotHost),
        None => Err(HttpError::NeedsHostToken),
    }
}

/// The share link of `token`, on the address others open: `--public-url`,
/// else the one the host's request came to.
fn share_link_for(
    hub: &HubState,
    headers: &HeaderMap,
    room: &Room,
    token: &Token,
) -> Result<String, HttpError> {
    let base = match &hub.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '@']))
                .ok_or_else(|| HttpError::BadRequest("a Host header is needed".into()))?;
            format!("http://{host}")
        }
    };
    Ok(urls::share_link(&base, room.id(), token.expose()))
}

/// Replaces the `kind` link for the host: a new token, stored, in force,
/// the old one's connections closed; answers the new share link.
async fn replace_link(
    hub: &HubState,
    room: &Room,
    headers: &HeaderMap,
    kind: LinkKind,
) -> Result<Response, HttpError> {
    host_only(room, headers)?;
    let token = room
        .replace_link(kind, true)
        .await
        .map_err(|e| HttpError::NotStored(e.to_string()))?
        .ok_or_else(|| HttpError::NotStored("no token was minted".into()))?;
    let link = share_link_for(hub, headers, room, &token)?;
    Ok(Json(json!({ LinkKind::ANSWER_FIELD: link })).into_response())
}

async fn replace_edit_link(
    State(hub): State<Arc<HubState>>,
    RoomInPath(room): RoomInPath,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    replace_link(&hub, &room, &headers, LinkKind::Edit).await
}

async fn replace_view_link(
    State(hub): State<Arc<HubState>>,
    RoomInPath(room): RoomInPath,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    replace_link(&hub, &room, &headers, LinkKind::View).await
}

/// Turns the view link off for the host (204): its connections closed,
/// its token refused; a later `POST` turns it on with a new token.
async fn turn_view_link_off(
    RoomInPath(room): RoomInPath,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    host_only(&room, &headers)?;
    room.replace_link(LinkKind::View, false)
        .await
        .map_err(|e| HttpError::NotStored(e.to_string()))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The token in `Authorization: Bearer <token>`, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// Mints a snapshot link for a holder of either token, valid for
/// [`SNAPSHOT_LINK_SECONDS`] by the hub's clock.
async fn snapshot_link(
    RoomInPath(room): RoomInPath,
    headers: HeaderMap,
) -> Result<Json<SnapshotLink>, HttpError> {
    let token = bearer(&headers)
        .filter(|t| room.secrets().access_for(t).is_some())
        .ok_or(HttpError::NeedsToken)?;
    let exp = now_secs() + SNAPSHOT_LINK_SECONDS;
    let sig = sign_hex(token, &snapshot_signing_message(room.id(), exp));
    Ok(Json(SnapshotLink {
        path: urls::snapshot_link("", room.id(), exp, &sig),
        expires_at: exp,
    }))
}

#[derive(Deserialize)]
struct SnapshotQuery {
    exp: Option<u64>,
    sig: Option<String>,
}

async fn snapshot(
    RoomInPath(room): RoomInPath,
    Query(query): Query<SnapshotQuery>,
) -> Result<Response, HttpError> {
    let (Some(exp), Some(sig)) = (query.exp, query.sig) else {
        return Err(HttpError::LinkIncomplete);
    };
    verify_link(&room, exp, &sig, now_secs())?;
    let disposition = format!("attachment; filename=\"{}.tar\"", room.id());
    let body = Body::from_stream(ReaderStream::new(stream_tar(room)));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-tar"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}
