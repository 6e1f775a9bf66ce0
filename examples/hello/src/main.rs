//! A yew hello-world, built with the same profile, trunk and wasm-opt
//! settings as the demo page, so `scripts/bench.sh` can show how much of
//! the demo's bundle is yew itself. Same allocator as the demo, too.

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
#[yew::component]
fn App() -> yew::Html {
    yew::html! { <h1>{ "Hello, world" }</h1> }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    yew::Renderer::<App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
