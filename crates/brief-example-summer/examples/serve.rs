//! Serves the generated `summer` service on loopback, for trying
//! Brief-RPC/1 with curl (see docs/brief.md):
//! `cargo run -p brief-example-summer --example serve -- 127.0.0.1:8080`.

use brief_example_summer::summer::{self, SumIn, SumOut};
use brief_rt::{Context, Error};
use std::time::Duration;

struct Summer;

impl summer::Summer for Summer {
    async fn sum(&self, ctx: Context, input: SumIn) -> Result<SumOut, Error> {
        // `b == 13` is slow on purpose, to show `deadline_exceeded`.
        if input.b == 13 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let sum = input
            .a
            .checked_add(input.b)
            .ok_or_else(|| Error::invalid_argument("sum overflows int"))?;
        let info = format!("request id {}", ctx.header("x-request-id").unwrap_or("-"));
        Ok(SumOut { sum, info })
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("summer listening on http://{}", listener.local_addr()?);
    brief_rt::axum::serve(listener, summer::router(Summer)).await
}
