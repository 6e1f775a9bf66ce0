//! Runtime events: a chart of events per second and a log of the newest.

use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

use crate::chart::per_second;
use crate::ui::use_room;

/// Seconds the chart covers.
pub const CHART_SECONDS: u64 = 180;

/// A bar chart of events per second over the last minutes, drawn from the
/// cached history too (it ends at the newest event when offline). Its
/// labels are text in the page, not pixels in the canvas, so they are as
/// sharp and as large as the page's text at any pixel ratio; the canvas
/// draws only the bars, at the screen's own resolution.
#[component]
pub fn PulseChart() -> Html {
    let room = use_room();
    let canvas = use_node_ref();
    let newest = room.state.events.back().map(|e| (e.rev, e.ts));
    let bins = {
        let state = room.state.clone();
        use_memo(newest, move |newest| {
            let end = newest.map_or(0, |(_, ts)| ts + 1000);
            per_second(&state.events, end, CHART_SECONDS)
        })
    };
    let peak = bins.iter().copied().max().unwrap_or(0);
    {
        let canvas = canvas.clone();
        // In the next animation frame, where the browser lays the page out
        // anyway: reading the canvas's size here, in the render's effect,
        // would force that layout before the room is even painted.
        use_effect_with(bins, move |bins| {
            let bins = std::rc::Rc::clone(bins);
            let frame = wasm_bindgen::closure::Closure::once_into_js(move || draw(&canvas, &bins));
            if let Some(window) = web_sys::window() {
                let _ = window.request_animation_frame(frame.unchecked_ref());
            }
        });
    }
    let total = room.state.events.len();
    let minutes = CHART_SECONDS / 60;
    html! {
        <figure class="room-pulse">
            <figcaption>{ format!("Events per second, last {minutes} minutes ({total} in history)") }</figcaption>
            <div class="chart">
                <canvas ref={canvas} role="img"
                    aria-label={format!("Chart of runtime events per second, at most {peak} per second")}></canvas>
                <span class="peak" aria-hidden="true">{ format!("{peak}/s") }</span>
            </div>
            <div class="axis" aria-hidden="true">
                <span>{ format!("{minutes} min ago") }</span>
                <span>{ "now" }</span>
            </div>
        </figure>
    }
}

fn draw(canvas: &NodeRef, bins: &[u32]) {
    let Some(canvas) = canvas.cast::<HtmlCanvasElement>() else {
        return;
    };
    // One canvas pixel per screen pixel: sharp bars at 1x and 2x alike.
    let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio().max(1.0));
    let width = (f64::from(canvas.client_width().max(1)) * ratio).round() as u32;
    let height = (f64::from(canvas.client_height().max(1)) * ratio).round() as u32;
    if canvas.width() != width || canvas.height() != height {
        canvas.set_width(width);
        canvas.set_height(height);
    }
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let (w, h) = (f64::from(width), f64::from(height));
    ctx.clear_rect(0.0, 0.0, w, h);
    let max = f64::from(bins.iter().copied().max().unwrap_or(0).max(1));
    let bar = w / bins.len().max(1) as f64;
    ctx.set_fill_style_str("#3b5bdb");
    for (i, &count) in bins.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let height = (f64::from(count) / max) * (h - 4.0 * ratio);
        ctx.fill_rect(i as f64 * bar, h - height, (bar - ratio).max(1.0), height);
    }
}

/// The newest events, newest first.
#[component]
pub fn EventLog() -> Html {
    let room = use_room();
    let rows = room.state.events.iter().rev().take(100).map(|event| {
        let data = match event.data.get("line").and_then(|l| l.as_str()) {
            Some(line) => line.to_owned(),
            None => event.data.to_string(),
        };
        html! {
            <li key={event.rev} data-rev={event.rev.to_string()}>
                <span class="rev">{ format!("#{}", event.rev) }</span>
                <span class={classes!("kind", event.kind.clone())}>{ event.kind.clone() }</span>
                <span class="data">{ data }</span>
            </li>
        }
    });
    html! {
        <section class="room-events" aria-label="Runtime events">
            <ol class="log">{ for rows }</ol>
        </section>
    }
}
