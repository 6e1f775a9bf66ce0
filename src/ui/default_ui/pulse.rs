//! Runtime events: a chart of events per second and a log of the newest.

use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

use crate::chart::per_second;
use crate::ui::use_room;

/// Seconds the chart covers.
pub const CHART_SECONDS: u64 = 180;

/// A bar chart of events per second over the last minutes, drawn from the
/// cached history too (it ends at the newest event when offline).
#[component]
pub fn PulseChart() -> Html {
    let room = use_room();
    let canvas = use_node_ref();
    let newest = room.state.events.back().map(|e| (e.rev, e.ts));
    {
        let canvas = canvas.clone();
        let state = room.state.clone();
        use_effect_with(newest, move |newest| {
            let end = newest.map_or(0, |(_, ts)| ts + 1000);
            let bins = per_second(&state.events, end, CHART_SECONDS);
            draw(&canvas, &bins);
        });
    }
    let total = room.state.events.len();
    html! {
        <figure class="room-pulse">
            <figcaption>{ format!("Events per second, last {} minutes ({total} in history)", CHART_SECONDS / 60) }</figcaption>
            <canvas ref={canvas} width="720" height="120" role="img"
                aria-label="Chart of runtime events per second"></canvas>
        </figure>
    }
}

fn draw(canvas: &NodeRef, bins: &[u32]) {
    let Some(canvas) = canvas.cast::<HtmlCanvasElement>() else {
        return;
    };
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let (w, h) = (f64::from(canvas.width()), f64::from(canvas.height()));
    ctx.clear_rect(0.0, 0.0, w, h);
    let max = f64::from(bins.iter().copied().max().unwrap_or(0).max(1));
    let bar = w / bins.len().max(1) as f64;
    ctx.set_fill_style_str("#4c6ef5");
    for (i, &count) in bins.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let height = (f64::from(count) / max) * (h - 4.0);
        ctx.fill_rect(i as f64 * bar, h - height, (bar - 1.0).max(1.0), height);
    }
    ctx.set_fill_style_str("#868e96");
    ctx.set_font("11px system-ui, sans-serif");
    let _ = ctx.fill_text(&format!("max {}/s", max as u64), 4.0, 12.0);
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
