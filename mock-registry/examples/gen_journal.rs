//! `gen_journal DIR LIVE CHURN [--append]`: writes a journal for `scripts/bench-startup` (see
//! `mock_registry::bench_journal::generate`).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_journal DIR LIVE_REPOSITORIES CHURN_EVENTS [--append]";
    let (Some(dir), Some(live), Some(churn)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let (Ok(live), Ok(churn)) = (live.parse(), churn.parse()) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let append = args.get(3).is_some_and(|a| a == "--append");
    match mock_registry::bench_journal::generate(std::path::Path::new(dir), live, churn, append) {
        Ok(written) => println!("{written} events written to {dir}/journal.log"),
        Err(e) => {
            eprintln!("gen_journal: {e}");
            std::process::exit(1);
        }
    }
}
