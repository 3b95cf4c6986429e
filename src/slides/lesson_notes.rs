//! A slide's `Lesson:` lines: the lessons (or single stages) it presents, whose `lab:notes` the
//! presenter view and the handout show under the slide's own notes. `Lesson: ID` takes every stage's
//! notes, `Lesson: ID/STAGE` one stage's. The lessons are the bundled ones; a reference to a lesson
//! or stage that is not there is a [`DeckError`] at its line.

use std::collections::BTreeMap;

use super::deck::DeckError;
use crate::lesson::{self, Lesson};

/// The line that names a lesson (or `LESSON/STAGE`) a slide presents.
pub const LESSON_MARKER: &str = "Lesson:";

/// One stage's instructor notes, for a slide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageNotes {
    /// `push-first-image/create-repository`: what the slide named, down to the stage.
    pub reference: String,
    /// The lesson's title and the stage's, as the learner sees them.
    pub heading: String,
    /// The `lab:notes` as markdown, the lesson's variables filled (mock values).
    pub markdown: String,
}

/// The bundled lessons, parsed (the deck reads them once).
pub fn bundled() -> Vec<Lesson> {
    lesson::sources(None).map(|sources| sources.iter().map(lesson::parse).collect()).unwrap_or_default()
}

/// The notes `reference` (`ID` or `ID/STAGE`, at `line`) names: each stage with notes. A stage named
/// on its own that has none says so, rather than vanishing.
pub fn resolve(reference: &str, line: usize, lessons: &[Lesson]) -> Result<Vec<StageNotes>, DeckError> {
    let (id, stage_id) = match reference.split_once('/') {
        Some((id, stage)) => (id.trim(), Some(stage.trim())),
        None => (reference.trim(), None),
    };
    let error = |message: String| DeckError { line, message };
    let Some(lesson) = lessons.iter().find(|l| l.id() == id) else {
        let ids: Vec<String> = lessons.iter().map(Lesson::id).collect();
        return Err(error(format!(
            "`{LESSON_MARKER} {reference}`: no lesson `{id}` (the lessons are {})",
            ids.join(", ")
        )));
    };
    let vars: BTreeMap<String, String> = lesson::variables(lesson);
    let stages: Vec<_> = match stage_id {
        None => lesson.stages.iter().collect(),
        Some(stage_id) => {
            let Some(stage) = lesson.stages.iter().find(|s| s.id() == stage_id) else {
                let ids: Vec<String> = lesson.stages.iter().map(|s| s.id()).collect();
                return Err(error(format!(
                    "`{LESSON_MARKER} {reference}`: lesson `{id}` has no stage `{stage_id}` (its stages are {})",
                    ids.join(", ")
                )));
            };
            vec![stage]
        }
    };
    let title = lesson::fill(&lesson.title(), &vars);
    let mut notes = Vec::new();
    for stage in stages {
        let heading = format!("{title} · {}", lesson::fill(&stage.title, &vars));
        let reference = format!("{id}/{}", stage.id());
        let markdown: Vec<String> = stage.notes.iter().map(|n| lesson::fill(&n.body, &vars)).collect();
        if markdown.is_empty() && stage_id.is_none() {
            continue;
        }
        let markdown =
            if markdown.is_empty() { "(this stage has no `lab:notes`)".to_owned() } else { markdown.join("\n\n") };
        notes.push(StageNotes { reference, heading, markdown });
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_a_lesson_or_one_stage_and_a_wrong_one_is_an_error_at_its_line() {
        let lessons = bundled();
        let one = resolve("create-repository/create", 7, &lessons).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].heading, "Create the repository · The guide's repository");
        assert!(one[0].markdown.contains("Do this one in the console on the projector"), "{one:?}");
        // A whole lesson: only the stages that have notes.
        let all = resolve("create-repository", 7, &lessons).unwrap();
        let names: Vec<&str> = all.iter().map(|n| n.reference.as_str()).collect();
        assert_eq!(names, ["create-repository/create", "create-repository/push-commands"]);
        let none = resolve("create-repository/describe", 7, &lessons).unwrap();
        assert_eq!(none[0].markdown, "(this stage has no `lab:notes`)");
        let wrong = resolve("nope", 9, &lessons).unwrap_err();
        assert_eq!(wrong.line, 9);
        assert!(
            wrong.message.starts_with("`Lesson: nope`: no lesson `nope` (the lessons are push-first-image,"),
            "{wrong}"
        );
        let wrong = resolve("create-repository/nope", 3, &lessons).unwrap_err();
        assert!(
            wrong
                .message
                .contains("lesson `create-repository` has no stage `nope` (its stages are naming-rules, create,"),
            "{wrong}"
        );
    }

    #[test]
    fn a_slides_lesson_lines_put_the_lab_notes_in_the_presenter_view_and_handout_only() {
        use crate::slides::deck;
        use crate::slides::page::{View, render};
        let text = "---\nid: demo\ntitle: Demo\n---\n## Make it\n\n```lab:stage\nid: make\n```\n\n```lab:notes\nShow `{{repo}}` on the <projector>.\n```\n";
        let lessons = vec![lesson::parse(&lesson::Source { path: "demo.md".into(), text: text.into() })];
        let source = "# Deck\n\nHi\n\nNote: say hi\n\nLesson: demo/make\n---\n## Code\n\n```text\nLesson: not-a-reference\n```\n";
        let deck = deck::parse_with(source, &lessons).unwrap();
        assert_eq!(deck.slides[0].notes, "<p>say hi</p>\n", "the Lesson: line is not part of the notes");
        assert_eq!(
            deck.slides[0].lesson_notes,
            [("Demo · Make it".to_owned(), "<p>Show <code>test</code> on the &lt;projector&gt;.</p>\n".to_owned())]
        );
        assert!(deck.slides[1].lesson_notes.is_empty(), "a Lesson: line in code is code");
        for view in [View::Presenter, View::Handout] {
            let page = render(&deck, view);
            assert!(page.contains("<h3>From the lesson: Demo · Make it</h3>"), "{view:?}: {page}");
        }
        // The audience view carries the notes too (hidden; the presenter window reads them from it).
        assert!(render(&deck, View::Audience).contains("<aside class=\"notes\""));
        let errors = deck::parse_with("# Deck\n\nHi\n\nLesson: demo/nope\n", &lessons).unwrap_err();
        assert_eq!(errors[0].line, 5);
        assert!(errors[0].message.contains("lesson `demo` has no stage `nope` (its stages are make)"), "{errors:?}");
    }
}
