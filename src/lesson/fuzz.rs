//! Property tests (issue 20): arbitrary lesson text, and the bundled lessons cut, spliced and
//! garbled, through the parser and the linter. Bounded (`CASES` per property); the property is
//! that they never panic, and that a lesson they cannot read says so as problems.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::{Source, lint, parse, sources};

const CASES: u32 = 256;

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() })
}

fn read(text: String) {
    let lesson = parse(&Source { path: "fuzz.md".into(), text });
    let _ = lint::lint(&lesson);
}

#[test]
fn arbitrary_text_is_read_without_a_panic() {
    let pieces = prop_oneof![
        any::<String>(),
        prop::sample::select(vec![
            "---\n",
            "id: x\n",
            "title: T\n",
            "## Stage\n",
            "```lab:stage\n",
            "```lab:run\n",
            "```lab:check\n",
            "```lab:fault\n",
            "```\n",
            "- ecr.repository: {",
            "{{repo}}",
            "{{",
            "}}",
            "\r\n",
            "\t",
            ": ",
            "- ",
        ])
        .prop_map(str::to_owned),
    ];
    runner()
        .run(&prop::collection::vec(pieces, 0..40), |pieces| {
            read(pieces.concat());
            Ok(())
        })
        .unwrap();
}

#[test]
fn bundled_lessons_cut_spliced_and_garbled_are_read_without_a_panic() {
    let lessons: Vec<String> = sources(None).unwrap().into_iter().map(|s| s.text).collect();
    assert!(!lessons.is_empty());
    let edit = (0..lessons.len(), any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<String>());
    runner()
        .run(&edit, |(which, at, len, insert)| {
            let text = &lessons[which];
            let mut start = at.index(text.len() + 1);
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + len.index(64)).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            read(format!("{}{insert}{}", &text[..start], &text[end..]));
            read(text[..start].to_owned());
            Ok(())
        })
        .unwrap();
}
