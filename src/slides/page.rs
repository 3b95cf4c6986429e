//! The deck's pages: the audience view (one slide at a time), the handout (every slide with its
//! notes, for printing) and the presenter view. All three carry every slide; `slides.js` decides what
//! is shown. The pages name only this server's own assets. They are [`maud`] templates (escaped by
//! construction); the only markup passed through is each slide's own, rendered from the deck's
//! markdown by [`super::deck`] (raw HTML shown as text, code escaped by `pulldown-cmark-escape`).

use maud::{Markup, PreEscaped, html};

use super::deck::{Deck, Slide};

/// Which page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Audience,
    Handout,
    Presenter,
}

impl View {
    fn mode(self) -> &'static str {
        match self {
            View::Audience => "audience",
            View::Handout => "handout",
            View::Presenter => "presenter",
        }
    }
}

pub fn render(deck: &Deck, view: View) -> String {
    let count = deck.slides.len();
    let title = match view {
        View::Audience => deck.title.clone(),
        View::Handout => format!("{} · handout", deck.title),
        View::Presenter => format!("{} · presenter", deck.title),
    };
    let slides = html! {
        @for (index, slide) in deck.slides.iter().enumerate() { (sheet(deck, slide, index + 1, view)) }
    };
    let page = html! {
        (PreEscaped("<!doctype html>\n"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/slides/assets/slides.css";
            }
            body class=(view.mode()) data-mode=(view.mode()) data-count=(count) {
                @match view {
                    View::Audience => {
                        main id="deck" class="deck" { (slides) }
                        (audience_controls(count))
                    }
                    View::Handout => {
                        header class="handout-head" {
                            h1 { (deck.title) " · handout" }
                            p {
                                (count) " slides with speaker notes. Print this page (Ctrl-P) to save it as a PDF. "
                                a href="/slides/" { "Back to the slides" }
                            }
                        }
                        main id="deck" class="deck" { (slides) }
                    }
                    View::Presenter => {
                        (presenter_panes(count))
                        div id="deck" class="deck" hidden { (slides) }
                    }
                }
                script src="/slides/assets/slides.js" {}
            }
        }
        "\n"
    };
    page.into_string()
}

/// One slide as a sheet: the slide (its notes inside, where the script reads them) or, in the
/// handout, the slide with its notes printed under it.
fn sheet(deck: &Deck, slide: &Slide, n: usize, view: View) -> Markup {
    let count = deck.slides.len();
    let notes = html! {
        aside class="notes" aria-label="Speaker notes" {
            h2 class="notes-title" { "Notes · " (n) ". " (slide.title) }
            @if slide.notes.is_empty() && slide.lesson_notes.is_empty() {
                p class="no-notes" { "No notes for this slide." }
            } @else {
                (PreEscaped(&slide.notes))
            }
            @for (heading, notes) in &slide.lesson_notes {
                section class="lesson-notes" {
                    h3 { "From the lesson: " (heading) }
                    // Rendered from the lesson's markdown as the slides are (raw HTML shown as text).
                    (PreEscaped(notes))
                }
            }
        }
    };
    html! {
        article class="sheet" {
            section class="slide" id={ "slide-" (n) } data-n=(n) data-title=(slide.title) data-line=(slide.line)
                aria-roledescription="slide" aria-label={ (n) " of " (count) ": " (slide.title) } {
                // The slide's HTML comes from the deck's markdown, rendered with raw HTML turned to text.
                div class="slide-body" { (PreEscaped(&slide.html)) }
                footer class="slide-foot" { span { (deck.title) } span class="slide-number" { (n) " / " (count) } }
                @if view != View::Handout { (notes) }
            }
            @if view == View::Handout { (notes) }
        }
    }
}

fn audience_controls(count: usize) -> Markup {
    html! {
        nav class="controls" aria-label="Slides" {
            button type="button" data-go="prev" aria-label="Previous slide" { "‹" }
            span class="counter" aria-live="polite" { "1 / " (count) }
            button type="button" data-go="next" aria-label="Next slide" { "›" }
            a class="presenter-link" href="/slides/presenter" target="ecr-lab-presenter" { "Presenter view (p)" }
            a href="/slides/?print-notes" { "Handout" }
        }
        div class="progress" aria-hidden="true" { div class="bar" {} }
    }
}

fn presenter_panes(count: usize) -> Markup {
    html! {
        header class="presenter-bar" {
            span class="timer" id="timer" role="timer" aria-label="Elapsed time" { "00:00" }
            button type="button" id="timer-reset" { "Reset timer (r)" }
            span class="counter" aria-live="polite" { "1 / " (count) }
            button type="button" data-go="prev" aria-label="Previous slide" { "‹" }
            button type="button" data-go="next" aria-label="Next slide" { "›" }
            span class="clock" id="clock" {}
        }
        main class="panes" {
            section class="pane pane-current" aria-label="Current slide" { h2 { "Now" } div class="screen" id="current" {} }
            section class="pane pane-next" aria-label="Next slide" { h2 { "Next" } div class="screen" id="next" {} }
            section class="pane pane-notes" aria-label="Speaker notes" { h2 { "Notes" } div id="notes" {} }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slides::deck;

    #[test]
    fn every_view_carries_every_slide_and_only_local_assets() {
        let deck = deck::parse("# First <one>\n\nHi\nNote: psst\n---\n## Second\n\nThere\n").unwrap();
        for view in [View::Audience, View::Handout, View::Presenter] {
            let page = render(&deck, view);
            assert_eq!(page.matches("<section class=\"slide\"").count(), 2, "{view:?}");
            assert!(page.contains("data-title=\"First &lt;one&gt;\""));
            assert!(page.contains("<p>psst</p>"));
            assert!(page.contains("<p class=\"no-notes\">No notes for this slide.</p>"));
            assert!(!page.contains("http://") && !page.contains("https://"), "{view:?} names nothing outside");
        }
        assert!(render(&deck, View::Presenter).contains("<div id=\"deck\" class=\"deck\" hidden>"));
        assert!(render(&deck, View::Audience).contains("<span class=\"counter\" aria-live=\"polite\">1 / 2</span>"));
        assert!(render(&deck, View::Handout).contains("<body class=\"handout\""));
    }
}
