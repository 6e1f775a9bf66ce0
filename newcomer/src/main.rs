use room_client::prelude::*;
use yew::prelude::*;

#[component]
fn App() -> Html {
    // The room at the page's address (`/rooms/{id}/`, on the hub that
    // serves the page), with the default UI, styled.
    html! {
        <RoomClient options={RoomOptions::default()}>
            <RoomView />
        </RoomClient>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
