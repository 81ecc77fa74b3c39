//! The ceiling of the public-site benchmark (`scripts/bench-pages.sh`): a
//! bare axum server that answers every GET with the same fixed
//! `text/html` body of a given size. Whatever `arkiv serve` does beyond
//! this (a store read, building the page's context, rendering the
//! template, the ETag digest, the headers) is what the benchmark measures
//! against it.
//!
//!     cargo run --release -p arkiv-web --example ceiling -- --listen 127.0.0.1:8090 --size 9000
//!
//! Same runtime as `arkiv serve`: tokio's multi-threaded runtime with its
//! defaults (one worker per core), axum's `serve` over HTTP/1. No
//! compression layer: the benchmark's load generator (wrk) sends no
//! `Accept-Encoding`, so `arkiv serve` does not compress either.

use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::Router;

fn usage() -> ! {
    eprintln!("usage: ceiling --listen ADDR --size BYTES");
    std::process::exit(2);
}

/// A page-like body of exactly `size` bytes (ASCII, so any size is valid UTF-8).
fn body(size: usize) -> Bytes {
    let line = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>\n";
    let mut s = String::with_capacity(size);
    while s.len() < size {
        s.push_str(line);
    }
    s.truncate(size);
    Bytes::from(s)
}

fn main() {
    let mut listen = None;
    let mut size = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next(),
            "--size" => size = args.next().and_then(|s| s.parse::<usize>().ok()),
            _ => usage(),
        }
    }
    let (Some(listen), Some(size)) = (listen, size) else { usage() };
    let page = body(size);
    // As `arkiv` builds its runtime: `Runtime::new()`, multi-threaded, defaults.
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async move {
        let handler = move || {
            let page = page.clone();
            async move {
                ([(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], page).into_response()
            }
        };
        let app = Router::new().fallback_service(axum::routing::get(handler));
        let listener = tokio::net::TcpListener::bind(&listen).await.unwrap_or_else(|e| {
            eprintln!("cannot listen on {listen}: {e}");
            std::process::exit(1);
        });
        eprintln!("ceiling: {size}-byte page at http://{}/", listener.local_addr().expect("local address"));
        axum::serve(listener, app).await.expect("serve");
    });
}
