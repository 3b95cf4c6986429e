//! A deck file turned into slides: `---` lines split it, a `Note:` line starts a slide's speaker
//! notes, `{{...}}` placeholders are filled from the lab's variables and the fault catalogue (so a
//! slide quotes the same commands and error texts as the lessons), and fenced `live:` blocks become
//! panels of the mock's state. Parsing knows nothing of HTTP; an author's mistake is a [`DeckError`]
//! with its line, never a half-rendered slide.

use std::collections::BTreeMap;
use std::fmt;

use maud::html;
use mock_registry::types::{Region, RepositoryName};
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use pulldown_cmark_escape::escape_html;

use crate::lesson::{self, fault};

/// The line that starts a slide's speaker notes (the rest of that line is notes too).
pub const NOTES_MARKER: &str = "Note:";

/// What a `{{fault:ID.FIELD}}` placeholder may name.
pub const FAULT_FIELDS: &[&str] = &["error", "command", "summary"];

#[derive(Debug)]
pub struct Deck {
    /// The first slide's title.
    pub title: String,
    pub slides: Vec<Slide>,
}

#[derive(Debug)]
pub struct Slide {
    /// Where the slide starts in the deck file (1-based).
    pub line: usize,
    /// The text of its first heading.
    pub title: String,
    /// The slide's content as HTML.
    pub html: String,
    /// The speaker notes as HTML; empty when it has none.
    pub notes: String,
    /// The `lab:notes` of the lessons (or stages) its `Lesson:` lines name: `(heading, HTML)`.
    pub lesson_notes: Vec<(String, String)>,
}

/// A mistake in a deck file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeckError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for DeckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A panel that shows the mock's state and refreshes itself (a fenced block `live:KIND key=value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Live {
    Repositories { region: Region },
    Images { region: Region, repository: RepositoryName },
}

impl Live {
    /// The JSON endpoint the panel polls (same origin).
    pub fn source(&self) -> String {
        match self {
            Live::Repositories { region } => format!("/slides/api/repositories?region={region}"),
            Live::Images { region, repository } => {
                format!("/slides/api/images?region={region}&repository={repository}")
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Live::Repositories { .. } => "repositories",
            Live::Images { .. } => "images",
        }
    }

    fn caption(&self) -> String {
        match self {
            Live::Repositories { region } => format!("Repositories in {region}, live from the lab"),
            Live::Images { repository, .. } => format!("Images in {repository}, live from the lab"),
        }
    }

    fn columns(&self) -> &'static [&'static str] {
        match self {
            Live::Repositories { .. } => &["Repository", "URI", "Tag immutability", "Scan on push", "Images"],
            Live::Images { .. } => &["Image tags", "Digest", "Pushed at", "Size"],
        }
    }

    fn html(&self, caption: &str) -> String {
        let caption = if caption.is_empty() { self.caption() } else { caption.to_owned() };
        let panel = html! {
            figure class="live" data-live=(self.kind()) data-src=(self.source()) {
                figcaption { span class="live-dot" aria-hidden="true" {} (caption) }
                table {
                    thead { tr { @for column in self.columns() { th scope="col" { (column) } } } }
                    tbody aria-live="polite" {
                        tr class="live-waiting" { td colspan=(self.columns().len()) { "Asking the lab's mock…" } }
                    }
                }
                p class="live-error" role="status" hidden {}
            }
        };
        panel.into_string() + "\n"
    }

    /// Reads `live:KIND key=value ...`.
    fn parse(info: &str, vars: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut words = info.split_whitespace();
        let kind = words.next().unwrap_or_default().strip_prefix("live:").unwrap_or_default();
        let mut attributes = BTreeMap::new();
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| format!("`{word}` in a live block's first line is not `key=value`"))?;
            attributes.insert(key, value);
        }
        let region = attributes.remove("region").map(str::to_owned).unwrap_or_else(|| vars["region"].clone());
        let region = Region::parse(&region).map_err(|e| format!("live block: {}", e.0))?;
        let live = match kind {
            "repositories" => Live::Repositories { region },
            "images" => {
                let name = attributes.remove("repository").map(str::to_owned).unwrap_or_else(|| vars["repo"].clone());
                let repository = RepositoryName::parse(&name)
                    .map_err(|e| format!("live block: repository '{name}' is not a repository name: {}", e.0))?;
                Live::Images { region, repository }
            }
            other => return Err(format!("unknown live block `live:{other}` (known: live:repositories, live:images)")),
        };
        if let Some(key) = attributes.keys().next() {
            return Err(format!("live:{} has no attribute `{key}` (it takes {})", live.kind(), live.attributes()));
        }
        Ok(live)
    }

    fn attributes(&self) -> &'static str {
        match self {
            Live::Repositories { .. } => "region=",
            Live::Images { .. } => "region= and repository=",
        }
    }
}

/// Parses and renders a deck; every mistake in it, or the deck.
pub fn parse(text: &str) -> Result<Deck, Vec<DeckError>> {
    parse_with(text, &super::lesson_notes::bundled())
}

/// [`parse`], the `Lesson:` lines naming `lessons`.
pub fn parse_with(text: &str, lessons: &[lesson::Lesson]) -> Result<Deck, Vec<DeckError>> {
    let vars = lesson::built_in_variables();
    let mut errors = Vec::new();
    let mut slides = Vec::new();
    for (index, raw) in split(text, &mut errors).into_iter().enumerate() {
        let number = index + 1;
        if raw.body.trim().is_empty() {
            errors.push(DeckError { line: raw.line, message: format!("slide {number} has no content") });
            continue;
        }
        let body = fill(&raw.body, raw.line, &vars, &mut errors);
        let notes = fill(&raw.notes, raw.notes_line, &vars, &mut errors);
        let (html, title) = render(&body, raw.line, &vars, &mut errors);
        if title.is_empty() {
            errors.push(DeckError {
                line: raw.line,
                message: format!("slide {number} has no heading (its title in the presenter view and the handout)"),
            });
        }
        let (notes, _) = render(&notes, raw.notes_line, &vars, &mut errors);
        let mut lesson_notes = Vec::new();
        for (line, reference) in &raw.lessons {
            match super::lesson_notes::resolve(reference, *line, lessons) {
                Ok(stages) => lesson_notes.extend(stages.into_iter().map(|stage| {
                    // Filled already: a lesson's notes may quote `{{` nowhere the deck's placeholders could.
                    (stage.heading, render(&stage.markdown, *line, &vars, &mut Vec::new()).0)
                })),
                Err(error) => errors.push(error),
            }
        }
        slides.push(Slide { line: raw.line, title, html, notes, lesson_notes });
    }
    if slides.is_empty() && errors.is_empty() {
        errors.push(DeckError { line: 1, message: "the deck has no slides".into() });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }
    Ok(Deck { title: slides[0].title.clone(), slides })
}

/// One slide's source before rendering.
#[derive(Debug, Default)]
struct Raw {
    line: usize,
    body: String,
    notes_line: usize,
    notes: String,
    in_notes: bool,
    /// Its `Lesson:` lines: `(line, reference)`.
    lessons: Vec<(usize, String)>,
}

/// Splits at `---` lines and `Note:` lines outside fenced code.
fn split(text: &str, errors: &mut Vec<DeckError>) -> Vec<Raw> {
    let mut slides = vec![Raw { line: 1, ..Raw::default() }];
    let mut fence: Option<(char, usize)> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let current = slides.last_mut().expect("there is always a slide");
        if let Some(run) = fence_run(line) {
            match fence {
                None => fence = Some(run),
                Some((c, n))
                    if run.0 == c && run.1 >= n && line.trim_start().trim_start_matches(c).trim().is_empty() =>
                {
                    fence = None
                }
                Some(_) => {}
            }
        } else if fence.is_none() && line.trim_end() == "---" {
            slides.push(Raw { line: number + 1, ..Raw::default() });
            continue;
        } else if fence.is_none() && line.starts_with(super::lesson_notes::LESSON_MARKER) {
            let reference = line[super::lesson_notes::LESSON_MARKER.len()..].trim();
            current.lessons.push((number, reference.to_owned()));
            continue;
        } else if fence.is_none() && line.starts_with(NOTES_MARKER) {
            if current.in_notes {
                errors.push(DeckError {
                    line: number,
                    message: format!("a second `{NOTES_MARKER}` line in one slide (its notes already started)"),
                });
            }
            current.in_notes = true;
            current.notes_line = number;
            current.notes.push_str(line[NOTES_MARKER.len()..].trim_start());
            current.notes.push('\n');
            continue;
        }
        let target = if current.in_notes { &mut current.notes } else { &mut current.body };
        target.push_str(line);
        target.push('\n');
    }
    if let Some((c, _)) = fence {
        errors.push(DeckError {
            line: text.lines().count(),
            message: format!("a fenced code block ({c}{c}{c}) is never closed"),
        });
    }
    slides
}

/// A fence line's character and length: ``` or ~~~ (3 or more), indented at most 3 spaces.
fn fence_run(line: &str) -> Option<(char, usize)> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let c = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = trimmed.chars().take_while(|x| *x == c).count();
    (n >= 3).then_some((c, n))
}

/// Fills every `{{...}}` in `text` (which starts at `line`); unknown ones are errors.
fn fill(text: &str, line: usize, vars: &BTreeMap<String, String>, errors: &mut Vec<DeckError>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut consumed = 0;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let at = line + text[..consumed + start].matches('\n').count();
        let Some(end) = rest[start + 2..].find("}}") else {
            errors.push(DeckError { line: at, message: "`{{` without a closing `}}`".into() });
            out.push_str(&rest[start..]);
            return out;
        };
        let name = rest[start + 2..start + 2 + end].trim();
        match placeholder(name, vars) {
            Ok(value) => out.push_str(&value),
            Err(message) => errors.push(DeckError { line: at, message }),
        }
        consumed += start + 4 + end;
        rest = &rest[start + 4 + end..];
    }
    out.push_str(rest);
    out
}

/// The value of one placeholder: a lab variable, or a field of a fault in the catalogue.
fn placeholder(name: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    if let Some(reference) = name.strip_prefix("fault:") {
        let (id, field) = reference
            .rsplit_once('.')
            .ok_or_else(|| format!("`{{{{{name}}}}}` names no field: write {{{{fault:ID.FIELD}}}}"))?;
        let known: Vec<&str> = fault::CATALOGUE.iter().map(|f| f.id).collect();
        let spec = fault::spec(id).ok_or_else(|| {
            format!("unknown fault `{id}` in `{{{{{name}}}}}` (the catalogue has {})", known.join(", "))
        })?;
        let text = match field {
            "error" => spec.error,
            "command" => spec.trigger,
            "summary" => spec.summary,
            other => {
                return Err(format!("a fault has no field `{other}` (use {})", FAULT_FIELDS.join(", ")));
            }
        };
        return Ok(lesson::fill(text, vars));
    }
    vars.get(name).cloned().ok_or_else(|| {
        let known: Vec<&str> = vars.keys().map(String::as_str).collect();
        format!(
            "unknown placeholder `{{{{{name}}}}}` (known: {}, and fault:ID.{})",
            known.join(", "),
            FAULT_FIELDS.join("|")
        )
    })
}

/// Markdown to HTML, with `live:` blocks as panels; also the first heading's text.
fn render(text: &str, line: usize, vars: &BTreeMap<String, String>, errors: &mut Vec<DeckError>) -> (String, String) {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut events: Vec<Event> = Vec::new();
    // A fenced or indented block being collected: its kind and its text so far.
    let mut block: Option<(Block, String)> = None;
    let mut title = String::new();
    let mut in_heading = false;
    let mut titled = false;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(ref kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.trim().to_owned(),
                    CodeBlockKind::Indented => String::new(),
                };
                let kind = if info.starts_with("live:") {
                    Block::Live { info, line: line + text[..range.start].matches('\n').count() }
                } else {
                    Block::Code { language: info.split_whitespace().next().unwrap_or_default().to_owned() }
                };
                block = Some((kind, String::new()));
            }
            Event::Text(ref t) if block.is_some() => {
                if let Some((_, body)) = block.as_mut() {
                    body.push_str(t);
                }
            }
            Event::End(TagEnd::CodeBlock) => match block.take() {
                Some((Block::Live { info, line }, body)) => match Live::parse(&info, vars) {
                    Ok(panel) => events.push(Event::Html(panel.html(body.trim()).into())),
                    Err(message) => errors.push(DeckError { line, message }),
                },
                Some((Block::Code { language }, body)) => events.push(Event::Html(code_html(&language, &body).into())),
                None => {}
            },
            Event::Start(Tag::Heading { .. }) if !titled => {
                in_heading = true;
                events.push(event);
            }
            Event::End(TagEnd::Heading(_)) if in_heading => {
                in_heading = false;
                titled = true;
                events.push(event);
            }
            Event::Text(ref t) | Event::Code(ref t) if in_heading => {
                title.push_str(t);
                events.push(event);
            }
            // Raw HTML is shown as text: a slide cannot run script or fetch from elsewhere.
            Event::Html(t) | Event::InlineHtml(t) => {
                if in_heading {
                    title.push_str(&t);
                }
                events.push(Event::Text(t));
            }
            Event::Start(Tag::Image { ref dest_url, .. }) if !dest_url.starts_with("data:") => {
                let at = line + text[..range.start].matches('\n').count();
                errors.push(DeckError {
                    line: at,
                    message: format!("image `{dest_url}`: the deck must work offline, so images are `data:` URLs only"),
                });
                events.push(event);
            }
            other => events.push(other),
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    (html, title.trim().to_owned())
}

/// What a code block in a slide is.
enum Block {
    /// A `live:` panel, with the line it starts on.
    Live {
        info: String,
        line: usize,
    },
    Code {
        language: String,
    },
}

/// A code block, sized so that its longest line fits the slide when it can (`--cols`); a line too
/// long even then wraps only at spaces, never inside a flag, with its continuation indented.
fn code_html(language: &str, body: &str) -> String {
    let cols = body.lines().map(|l| l.chars().count()).max().unwrap_or(0).max(1);
    let mut html = format!("<pre style=\"--cols: {cols}\"><code");
    if !language.is_empty() {
        html.push_str(" class=\"language-");
        escape_html(&mut html, language).expect("writing to a String");
        html.push('"');
    }
    html.push('>');
    for line in body.lines() {
        html.push_str("<span class=\"line\">");
        for (index, word) in line.split(' ').enumerate() {
            if index > 0 {
                html.push(' ');
            }
            if !word.is_empty() {
                html.push_str("<span class=\"nw\">");
                escape_html(&mut html, word).expect("writing to a String");
                html.push_str("</span>");
            }
        }
        // The newline stays in the text (copying a command keeps its lines); the line's own box ends it.
        html.push_str("\n</span>");
    }
    html.push_str("</code></pre>\n");
    html
}

/// The text a reader sees in `html`: tags dropped, entities turned back (tests compare texts).
#[cfg(test)]
pub fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(text: &str) -> Vec<String> {
        parse(text).err().unwrap_or_default().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn splits_slides_at_rule_lines_and_keeps_notes_apart() {
        let deck = parse("# One\n\nHello.\n\nNote: say hi\nand smile\n---\n## Two\n\n* a\n* b\n").unwrap();
        assert_eq!(deck.title, "One");
        assert_eq!(deck.slides.len(), 2);
        let [one, two] = &deck.slides[..] else { unreachable!() };
        assert_eq!((one.line, one.title.as_str()), (1, "One"));
        assert_eq!(one.html, "<h1>One</h1>\n<p>Hello.</p>\n");
        assert_eq!(one.notes, "<p>say hi\nand smile</p>\n");
        assert_eq!((two.line, two.title.as_str()), (8, "Two"));
        assert!(two.html.contains("<li>a</li>"));
        assert_eq!(two.notes, "");
    }

    #[test]
    fn rule_and_note_lines_inside_fenced_code_are_content() {
        let text = "# Code\n\n```yaml\n---\nNote: not a note\n```\n\n~~~~\n```\n---\n~~~~\n";
        let deck = parse(text).unwrap();
        assert_eq!(deck.slides.len(), 1);
        let text = text_of(&deck.slides[0].html);
        assert!(text.contains("---\nNote: not a note\n"), "{text}");
        assert!(text.contains("```\n---\n"), "{text}");
        assert_eq!(deck.slides[0].notes, "");
    }

    #[test]
    fn placeholders_come_from_the_lab_variables_and_the_fault_catalogue() {
        let text = "# Push\n\n`docker push {{registry}}/{{ repo }}:{{tag}}`\n\n\
                    `{{fault:missing-repo.command}}` says `{{fault:missing-repo.error}}` ({{fault:missing-login.summary}})\n";
        let html = &parse(text).unwrap().slides[0].html;
        assert!(
            html.contains("<code>docker push 920736617090.dkr.ecr.ap-south-1.amazonaws.com/test:v1</code>"),
            "{html}"
        );
        assert!(
            html.contains(
                "<code>name unknown: The repository with name 'test' does not exist in the registry with id '920736617090'</code>"
            ),
            "{html}"
        );
        assert!(html.contains("(docker holds no login for the registry)"), "{html}");
        // The same text as the catalogue, filled the way the lessons fill it.
        let spec = fault::spec("missing-repo").unwrap();
        let vars = lesson::built_in_variables();
        assert!(html.contains(&lesson::fill(spec.trigger, &vars)));
    }

    #[test]
    fn unknown_placeholders_are_errors_with_their_lines() {
        let text = "# A\n\n{{registry}}\n\n{{regoin}}\n---\n# B\n\n{{fault:no-such-fault.error}}\n\nNote: {{fault:missing-repo.fix}}\n";
        let errors = errors_of(text);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].starts_with("line 5: unknown placeholder `{{regoin}}` (known: account, other_region, region,"),
            "{errors:?}"
        );
        assert!(errors[1].starts_with("line 9: unknown fault `no-such-fault` in `{{fault:no-such-fault.error}}`"));
        assert!(errors[1].contains("missing-repo, expired-credentials"), "{errors:?}");
        assert_eq!(errors[2], "line 11: a fault has no field `fix` (use error, command, summary)");
        assert_eq!(
            errors_of("# A\n\n{{fault:missing-repo}}\n"),
            ["line 3: `{{fault:missing-repo}}` names no field: write {{fault:ID.FIELD}}"]
        );
        assert_eq!(errors_of("# A\n\nx {{repo\n"), ["line 3: `{{` without a closing `}}`"]);
    }

    #[test]
    fn empty_untitled_and_unclosed_slides_are_errors() {
        assert_eq!(errors_of("# A\n---\n\n---\n# C\n"), ["line 3: slide 2 has no content"]);
        assert_eq!(errors_of("# A\n---\nNote: only notes\n"), ["line 3: slide 2 has no content"]);
        assert_eq!(
            errors_of("# A\n---\nno heading here\n"),
            ["line 3: slide 2 has no heading (its title in the presenter view and the handout)"]
        );
        assert_eq!(errors_of("# A\n\n```sh\nls\n"), ["line 4: a fenced code block (```) is never closed"]);
        assert_eq!(
            errors_of("# A\nNote: one\nNote: two\n"),
            ["line 3: a second `Note:` line in one slide (its notes already started)"]
        );
        assert_eq!(errors_of(""), ["line 1: slide 1 has no content"]);
    }

    #[test]
    fn live_blocks_become_panels_that_poll_the_mock() {
        let text = "# Live\n\n```live:repositories\n```\n\n```live:images repository=team/web region=us-east-1\nPushed so far\n```\n";
        let html = &parse(text).unwrap().slides[0].html;
        assert!(
            html.contains(r#"data-live="repositories" data-src="/slides/api/repositories?region=ap-south-1""#),
            "{html}"
        );
        assert!(html.contains("Repositories in ap-south-1, live from the lab"));
        assert!(html.contains(r#"data-src="/slides/api/images?region=us-east-1&amp;repository=team/web""#), "{html}");
        assert!(html.contains("<span class=\"live-dot\" aria-hidden=\"true\"></span>Pushed so far</figcaption>"));
        assert!(!html.contains("<pre>"), "a live block is not shown as code: {html}");

        assert_eq!(
            errors_of("# A\n\n```live:tags\n```\n"),
            ["line 3: unknown live block `live:tags` (known: live:repositories, live:images)"]
        );
        assert_eq!(
            errors_of("# A\n\n```live:repositories repository=x\n```\n"),
            ["line 3: live:repositories has no attribute `repository` (it takes region=)"]
        );
        assert_eq!(errors_of("# A\n\n```live:images repository=Bad_Name\n```\n").len(), 1);
        assert_eq!(
            errors_of("# A\n\n```live:images region=mars\n```\n"),
            ["line 3: live block: 'mars' is not an AWS region"]
        );
    }

    #[test]
    fn code_wraps_only_at_spaces_and_knows_its_longest_line() {
        let html = &parse("# Code\n\n```sh\naws ecr get-login-password --region x\n\necho '<a>'  two\n```\n")
            .unwrap()
            .slides[0]
            .html;
        assert_eq!(
            html,
            "<h1>Code</h1>\n<pre style=\"--cols: 37\"><code class=\"language-sh\">\
             <span class=\"line\"><span class=\"nw\">aws</span> <span class=\"nw\">ecr</span> \
             <span class=\"nw\">get-login-password</span> <span class=\"nw\">--region</span> <span class=\"nw\">x</span>\n</span>\
             <span class=\"line\">\n</span>\
             <span class=\"line\"><span class=\"nw\">echo</span> <span class=\"nw\">&#39;&lt;a&gt;&#39;</span>  <span class=\"nw\">two</span>\n</span>\
             </code></pre>\n"
        );
        assert_eq!(text_of(html), "Code\naws ecr get-login-password --region x\n\necho '<a>'  two\n\n");
    }

    #[test]
    fn nothing_on_a_slide_reaches_outside() {
        assert_eq!(
            errors_of("# A\n\n![logo](https://example.com/logo.png)\n"),
            [
                "line 3: image `https://example.com/logo.png`: the deck must work offline, so images are `data:` URLs only"
            ]
        );
        let html =
            &parse("# A\n\n<img src=\"https://example.com/x.png\">\n\ninline <b>bold</b>\n").unwrap().slides[0].html;
        assert!(!html.contains("<img") && !html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;img src=\"https://example.com/x.png\"&gt;"), "{html}");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            code_html(r#"<a"x">"#, r#"<a href="x">'&'</a>"#),
            "<pre style=\"--cols: 19\"><code class=\"language-&lt;a&quot;x&quot;&gt;\"><span class=\"line\">\
             <span class=\"nw\">&lt;a</span> <span class=\"nw\">href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;</span>\n</span></code></pre>\n"
        );
        let html = &parse("# <script>\n\nx\n").unwrap().slides[0].html;
        assert!(html.starts_with("<h1>&lt;script&gt;</h1>"), "{html}");
    }
}
