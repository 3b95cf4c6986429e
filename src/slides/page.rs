//! The deck's pages: the audience view (one slide at a time), the handout (every slide with its
//! notes, for printing) and the presenter view. All three carry every slide; `slides.js` decides what
//! is shown. The pages name only this server's own assets.

use super::deck::{Deck, escape};

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
    let mut sections = String::new();
    for (index, slide) in deck.slides.iter().enumerate() {
        let n = index + 1;
        let notes = if slide.notes.is_empty() {
            "<p class=\"no-notes\">No notes for this slide.</p>".to_owned()
        } else {
            slide.notes.clone()
        };
        let title = escape(&slide.title);
        let notes = format!(
            "<aside class=\"notes\" aria-label=\"Speaker notes\"><h2 class=\"notes-title\">Notes · {n}. {title}</h2>\n{notes}</aside>\n"
        );
        // The handout prints the notes under the slide; the other views read them from inside it.
        let (inside, under) = if view == View::Handout { ("", notes.as_str()) } else { (notes.as_str(), "") };
        sections.push_str(&format!(
            "<article class=\"sheet\">\n\
             <section class=\"slide\" id=\"slide-{n}\" data-n=\"{n}\" data-title=\"{title}\" data-line=\"{line}\" \
             aria-roledescription=\"slide\" aria-label=\"{n} of {count}: {title}\">\n\
             <div class=\"slide-body\">\n{html}</div>\n\
             <footer class=\"slide-foot\"><span>{deck}</span><span class=\"slide-number\">{n} / {count}</span></footer>\n\
             {inside}</section>\n{under}</article>\n",
            html = slide.html,
            line = slide.line,
            deck = escape(&deck.title),
        ));
    }
    let chrome = match view {
        View::Audience => "<nav class=\"controls\" aria-label=\"Slides\">\
             <button type=\"button\" data-go=\"prev\" aria-label=\"Previous slide\">‹</button>\
             <span class=\"counter\" aria-live=\"polite\">1 / COUNT</span>\
             <button type=\"button\" data-go=\"next\" aria-label=\"Next slide\">›</button>\
             <a class=\"presenter-link\" href=\"/slides/presenter\" target=\"ecr-lab-presenter\">Presenter view (p)</a>\
             <a href=\"/slides/?print-notes\">Handout</a></nav>\n\
             <div class=\"progress\" aria-hidden=\"true\"><div class=\"bar\"></div></div>\n"
            .replace("COUNT", &count.to_string()),
        View::Handout => format!(
            "<header class=\"handout-head\"><h1>{} · handout</h1><p>{count} slides with speaker notes. Print this page \
             (Ctrl-P) to save it as a PDF. <a href=\"/slides/\">Back to the slides</a></p></header>\n",
            escape(&deck.title)
        ),
        View::Presenter => "<header class=\"presenter-bar\">\
             <span class=\"timer\" id=\"timer\" role=\"timer\" aria-label=\"Elapsed time\">00:00</span>\
             <button type=\"button\" id=\"timer-reset\">Reset timer (r)</button>\
             <span class=\"counter\" aria-live=\"polite\">1 / COUNT</span>\
             <button type=\"button\" data-go=\"prev\" aria-label=\"Previous slide\">‹</button>\
             <button type=\"button\" data-go=\"next\" aria-label=\"Next slide\">›</button>\
             <span class=\"clock\" id=\"clock\"></span></header>\n\
             <main class=\"panes\">\
             <section class=\"pane pane-current\" aria-label=\"Current slide\"><h2>Now</h2><div class=\"screen\" id=\"current\"></div></section>\
             <section class=\"pane pane-next\" aria-label=\"Next slide\"><h2>Next</h2><div class=\"screen\" id=\"next\"></div></section>\
             <section class=\"pane pane-notes\" aria-label=\"Speaker notes\"><h2>Notes</h2><div id=\"notes\"></div></section>\
             </main>\n"
            .replace("COUNT", &count.to_string()),
    };
    let (deck_open, deck_close, chrome_first) = match view {
        View::Audience => ("<main id=\"deck\" class=\"deck\">", "</main>", false),
        View::Handout => ("<main id=\"deck\" class=\"deck\">", "</main>", true),
        View::Presenter => ("<div id=\"deck\" class=\"deck\" hidden>", "</div>", true),
    };
    let (before, after) = if chrome_first { (chrome.as_str(), "") } else { ("", chrome.as_str()) };
    let title = match view {
        View::Audience => escape(&deck.title),
        View::Handout => format!("{} · handout", escape(&deck.title)),
        View::Presenter => format!("{} · presenter", escape(&deck.title)),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"icon\" href=\"data:,\">\n\
         <link rel=\"stylesheet\" href=\"/slides/assets/slides.css\">\n</head>\n\
         <body class=\"{mode}\" data-mode=\"{mode}\" data-count=\"{count}\">\n\
         {before}{deck_open}\n{sections}{deck_close}\n{after}\
         <script src=\"/slides/assets/slides.js\"></script>\n</body>\n</html>\n",
        mode = view.mode(),
    )
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
