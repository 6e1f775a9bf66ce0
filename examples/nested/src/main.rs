//! An app with routes of its own that puts a room at one of them:
//! `/projects/{id}/room` shows room `{id}` with the default room UI, inside
//! the app's own header; `/` lists nothing but a hint. The page is not
//! served by the hub, so the room id and the hub's URL are set explicitly
//! in `RoomOptions` instead of being read from a `/rooms/{id}/` address.
//!
//! Open `/projects/demo/room?token=…` (the token of room `demo` on the hub):
//! room-client moves the token into this tab's storage and removes it from
//! the address bar, whatever the route.

// Natively nothing mounts the app (only the tests render it).
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use room_client::prelude::*;
use yew::prelude::*;

/// Where the hub is: baked in at build time (`ROOM_HUB_URL=…`), or the
/// hub's default address on this machine.
const HUB_URL: &str = match option_env!("ROOM_HUB_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787",
};

/// The app's routes.
#[derive(Debug, Clone, PartialEq)]
enum Route {
    Home,
    ProjectRoom(String),
    NotFound,
}

impl Route {
    /// The route of a page path.
    fn of(path: &str) -> Self {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        match parts.as_slice() {
            [] => Route::Home,
            ["projects", id, "room"] => Route::ProjectRoom((*id).to_owned()),
            _ => Route::NotFound,
        }
    }
}

#[derive(Properties, PartialEq)]
struct ProjectProps {
    id: AttrValue,
}

/// One project's page: the app's header, then its room.
#[component]
fn ProjectPage(props: &ProjectProps) -> Html {
    let options = RoomOptions::default()
        .room_id(props.id.to_string())
        .hub_url(HUB_URL);
    html! {
        <>
            <header><a href="/">{ "Projects" }</a>{ format!(" / {} / room", props.id) }</header>
            <RoomClient {options} />
        </>
    }
}

#[derive(Properties, PartialEq)]
struct AppProps {
    path: AttrValue,
}

#[component]
fn App(props: &AppProps) -> Html {
    match Route::of(&props.path) {
        Route::Home => {
            html! { <p>{ "Open /projects/{id}/room?token=… for a project's room." }</p> }
        }
        Route::ProjectRoom(id) => html! { <ProjectPage id={AttrValue::from(id)} /> },
        Route::NotFound => html! { <p>{ "No such page." }</p> },
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    yew::Renderer::<App>::with_props(AppProps { path: path.into() }).render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn the_room_sits_at_its_nested_route() {
        assert_eq!(
            Route::of("/projects/demo/room"),
            Route::ProjectRoom("demo".into())
        );
        assert_eq!(
            Route::of("/projects/demo/room/"),
            Route::ProjectRoom("demo".into())
        );
        assert_eq!(Route::of("/"), Route::Home);
        assert_eq!(Route::of("/rooms/demo/"), Route::NotFound);
    }

    #[test]
    fn a_project_page_renders_its_header_and_a_calm_room_on_a_server() {
        let render = yew::ServerRenderer::<App>::with_props(|| AppProps {
            path: "/projects/demo/room".into(),
        })
        .render();
        let html = futures_executor::block_on(render);
        assert!(html.contains("demo / room"), "{html}");
        assert!(html.contains("Connecting…"), "{html}");
    }
}
