//! `authorize_cost [CALLS]`: nanoseconds that authorization adds to one DescribeImages call, per
//! caller kind (see `mock_registry::bench_auth`). Build it with `--release`.

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let calls = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    match mock_registry::bench_auth::measure(calls).await {
        Ok(figures) => {
            for (what, ns) in figures {
                println!("{what:>40}: {ns:8.0} ns per call");
            }
        }
        Err(e) => {
            eprintln!("authorize_cost: {e}");
            std::process::exit(1);
        }
    }
}
