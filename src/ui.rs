//! The only module that prints lesson content or prompts: stage headers, prose, hints, quizzes, and
//! the stage's menu ([`MenuChoice`]), and the menu at the end of a lesson ([`AfterLesson`]).

use std::collections::BTreeMap;

use console::style;

use crate::lesson::{Lesson, Quiz, Shown, Stage, fill};

/// A choice at the end of a lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterLesson {
    Next,
    Menu,
    Quit,
}

/// A choice in a stage's menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuChoice {
    Shell,
    Check,
    Hint,
    Solution,
    Skip,
    Quit,
}

impl MenuChoice {
    /// In the menu's order.
    pub const ALL: [MenuChoice; 6] = [Self::Shell, Self::Check, Self::Hint, Self::Solution, Self::Skip, Self::Quit];

    pub fn label(self) -> &'static str {
        match self {
            Self::Shell => "Work in the lab shell",
            Self::Check => "Check my work",
            Self::Hint => "Show a hint",
            Self::Solution => "Show the solution",
            Self::Skip => "Skip this stage",
            Self::Quit => "Quit (progress is kept)",
        }
    }

    /// The word that does the same when typed in the lab shell.
    pub fn word(self) -> &'static str {
        match self {
            Self::Shell => "shell",
            Self::Check => "check",
            Self::Hint => "hint",
            Self::Solution => "solution",
            Self::Skip => "skip",
            Self::Quit => "quit",
        }
    }
}

pub struct Ui {
    interactive: bool,
    /// The web console of the lesson's own mock, shown beside every console step.
    console: Option<String>,
}

impl Ui {
    pub fn new() -> Self {
        Self { interactive: std::io::IsTerminal::is_terminal(&std::io::stdin()), console: None }
    }

    /// Where the lesson's console is (its mock's `/console/`): printed beside every console step.
    pub fn set_console(&mut self, url: Option<String>) {
        self.console = url;
    }

    pub fn is_interactive(&self) -> bool {
        self.interactive
    }

    /// The stage's menu; `Quit` when it cannot be asked.
    pub fn stage_menu(&self) -> MenuChoice {
        let labels: Vec<&str> = MenuChoice::ALL.iter().map(|choice| choice.label()).collect();
        match inquire::Select::new("What next?", labels).raw_prompt() {
            Ok(choice) => MenuChoice::ALL[choice.index],
            Err(_) => MenuChoice::Quit,
        }
    }

    /// At the end of a lesson: start the next one (`next` names it, if there is one), back to the
    /// menu (also Esc), or quit (also when it cannot be asked).
    pub fn after_lesson(&self, next: Option<&str>) -> AfterLesson {
        if !self.interactive {
            return AfterLesson::Quit;
        }
        let mut choices = Vec::new();
        if let Some(next) = next {
            choices.push((AfterLesson::Next, format!("Start the next lesson: {next}")));
        }
        choices.push((AfterLesson::Menu, "Back to the menu".to_owned()));
        choices.push((AfterLesson::Quit, "Quit".to_owned()));
        let labels: Vec<&str> = choices.iter().map(|(_, label)| label.as_str()).collect();
        match inquire::Select::new("What next?", labels).raw_prompt() {
            Ok(choice) => choices[choice.index].0,
            Err(inquire::InquireError::OperationCanceled) => AfterLesson::Menu,
            Err(_) => AfterLesson::Quit,
        }
    }

    /// A yes/no question; `false` when there is no terminal to ask on.
    pub fn confirm(&self, question: &str) -> bool {
        self.interactive && inquire::Confirm::new(question).with_default(false).prompt().unwrap_or(false)
    }

    pub fn say(&self, text: &str) {
        println!("{text}");
    }

    pub fn warn(&self, text: &str) {
        eprintln!("{} {text}", style("!").yellow().bold());
    }

    pub fn lesson_header(&self, lesson: &Lesson, vars: &BTreeMap<String, String>) {
        let level = lesson.front.level.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
        println!("{}{}", style(lesson.title()).bold().underlined(), style(level).dim());
        for objective in &lesson.front.objectives {
            println!("  • {objective}");
        }
        let intro = fill(lesson.intro.trim(), vars);
        if !intro.is_empty() {
            println!("\n{}", render_markdown(&intro));
        }
        println!("\n{}", style("Type `?` for what you can do in a stage.").dim());
    }

    pub fn stage(&self, n: usize, total: usize, stage: &Stage, vars: &BTreeMap<String, String>) {
        println!("\n{} {}", style(format!("── Stage {n}/{total}:")).cyan().bold(), style(&stage.title).bold());
        if let Some(goal) = stage.goal() {
            let minutes = stage
                .header
                .as_ref()
                .and_then(|(h, _)| h.minutes)
                .map(|m| format!(" (about {m} min)"))
                .unwrap_or_default();
            println!("{} {}{}", style("Goal:").bold(), fill(goal, vars), style(minutes).dim());
        }
        // Prose, commands and console steps in the order the lesson has them.
        for part in &stage.flow {
            match part {
                Shown::Prose(prose) if !prose.trim().is_empty() => {
                    println!("\n{}", render_markdown(&fill(prose.trim(), vars)));
                }
                Shown::Prose(_) => {}
                Shown::Run(run) => {
                    println!();
                    for line in run.body.lines() {
                        println!("    {}", style(fill(line, vars)).green());
                    }
                }
                Shown::Ui(ui) => {
                    match &self.console {
                        Some(url) => {
                            println!("\n{} {}", style("In the console").bold(), style(format!("({url}):")).cyan())
                        }
                        None => println!("\n{}", style("In the console:").bold()),
                    }
                    println!("{}", render_markdown(&fill(&ui.body, vars)));
                }
            }
        }
        if !stage.checks.is_empty() {
            println!("\n{}", style("Done when:").bold());
            for n in 0..stage.checks.len() {
                println!("  ○ {}", stage.check_text(n, vars));
            }
        }
        println!();
    }

    pub fn hint(&self, level: usize, text: &str) {
        println!("{} {}", style(format!("Hint {level}:")).yellow().bold(), render_markdown(text.trim()));
    }

    /// A hint that reacts to what the learner just did (`lab:hint when=...`).
    pub fn hint_for_what_happened(&self, text: &str) {
        println!("{} {}", style("Hint:").yellow().bold(), render_markdown(text.trim()));
    }

    pub fn solution(&self, text: &str) {
        println!("{}", style("Solution:").magenta().bold());
        for line in text.lines() {
            println!("    {}", style(line).green());
        }
    }

    pub fn done(&self, stage: &Stage) {
        println!("{} {}", style("✓ Stage complete:").green().bold(), stage.title);
    }

    pub fn not_yet(&self, failures: &[String]) {
        println!("{}", style("Not yet:").red().bold());
        for failure in failures {
            println!("  ✗ {failure}");
        }
    }

    /// A diagnose quiz, asked once the learner has met the error: a wrong choice is not corrected
    /// at once (that would give the cause away) but asked again; after three, the answer is told.
    pub fn diagnose(&self, quiz: &Quiz, vars: &BTreeMap<String, String>) {
        println!("{}", style("Before you fix it: what is wrong?").bold());
        for attempt in 1..=3 {
            let picked = self.pick(quiz, vars, None);
            if picked == Some(quiz.answer) {
                return self.answered(quiz, vars, true);
            }
            if attempt < 3 {
                println!("{} Read the error again, word for word, and choose again.", style("Not quite.").red().bold());
            }
        }
        self.answered(quiz, vars, false);
    }

    /// Asks a quiz: a menu on a terminal, otherwise the choice's number (from `typed` when the
    /// runner is already reading stdin).
    pub fn quiz(
        &self,
        quiz: &Quiz,
        vars: &BTreeMap<String, String>,
        typed: Option<&std::sync::mpsc::Receiver<String>>,
    ) {
        let picked = self.pick(quiz, vars, typed);
        self.answered(quiz, vars, picked == Some(quiz.answer));
    }

    /// The learner's choice (1-based), if they made one.
    fn pick(
        &self,
        quiz: &Quiz,
        vars: &BTreeMap<String, String>,
        typed: Option<&std::sync::mpsc::Receiver<String>>,
    ) -> Option<usize> {
        let prompt = fill(&quiz.prompt, vars);
        let choices: Vec<String> = quiz.choices.iter().map(|c| fill(c, vars)).collect();
        if self.interactive && typed.is_none() {
            return inquire::Select::new(&prompt, choices).with_vim_mode(false).raw_prompt().ok().map(|c| c.index + 1);
        }
        println!("{} {prompt}", style("Quiz:").bold());
        for (n, choice) in choices.iter().enumerate() {
            println!("  {}. {choice}", n + 1);
        }
        match typed {
            Some(lines) => lines.recv().ok().and_then(|l| l.trim().parse().ok()),
            None => {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).ok().and_then(|_| line.trim().parse().ok())
            }
        }
    }

    fn answered(&self, quiz: &Quiz, vars: &BTreeMap<String, String>, right: bool) {
        let explain = quiz.explain.as_deref().map(|e| fill(e, vars)).unwrap_or_default();
        if right {
            println!("{} {explain}", style("Right.").green().bold());
        } else {
            let answer = quiz.choices.get(quiz.answer.saturating_sub(1)).map(|c| fill(c, vars)).unwrap_or_default();
            println!("{} The answer is: {answer}. {explain}", style("Not quite.").red().bold());
        }
    }
}

impl Default for Ui {
    fn default() -> Self {
        Self::new()
    }
}

/// Markdown for a terminal: headings bold, inline code highlighted, `**strong**` bold, `*emphasis*`
/// italic, the rest as written.
fn render_markdown(text: &str) -> String {
    // Where a lesson's blocks stood between paragraphs, the prose has runs of blank lines: keep one.
    let mut previous_blank = false;
    text.lines()
        .filter(|line| {
            let blank = line.trim().is_empty();
            let keep = !(blank && previous_blank);
            previous_blank = blank;
            keep
        })
        .map(|line| {
            if let Some(heading) = line.strip_prefix("### ").or_else(|| line.strip_prefix("#### ")) {
                return style(heading).bold().to_string();
            }
            let mut out = String::new();
            for (n, part) in line.split('`').enumerate() {
                if n % 2 == 1 {
                    out.push_str(&style(part).cyan().to_string());
                } else {
                    out.push_str(&emphasis(part));
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `**strong**` bold and `*emphasis*` italic in `text` (no code spans); a star that opens nothing (a
/// space after it, or no closing star) stays as written.
fn emphasis(text: &str) -> String {
    let opens = |rest: &str, marker: &str| {
        rest.strip_prefix(marker).and_then(|after| after.chars().next()).is_some_and(|c| !c.is_whitespace() && c != '*')
    };
    // The closing marker: the first `marker` after a non-space.
    let closes = |inner: &str, marker: &str| {
        inner.match_indices(marker).map(|(at, _)| at).find(|&at| at > 0 && !inner[..at].ends_with(char::is_whitespace))
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(star) = rest.find('*') {
        out.push_str(&rest[..star]);
        rest = &rest[star..];
        let marker = if rest.starts_with("**") { "**" } else { "*" };
        let inner = &rest[marker.len()..];
        let Some(end) = closes(inner, marker).filter(|_| opens(rest, marker)) else {
            out.push_str(marker);
            rest = inner;
            continue;
        };
        let body = &inner[..end];
        if marker == "**" {
            out.push_str(&style(emphasis(body)).bold().to_string());
        } else {
            out.push_str(&style(body).italic().to_string());
        }
        rest = &inner[end + marker.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::render_markdown;

    /// Without a colour terminal (as under `cargo test`) styling is dropped: the markers must go too.
    #[test]
    fn inline_emphasis_and_code_are_rendered_not_shown_raw() {
        console::set_colors_enabled(false);
        assert_eq!(render_markdown("tags are *Immutable* here"), "tags are Immutable here");
        assert_eq!(render_markdown("a **strong** word and *two* *more*"), "a strong word and two more");
        assert_eq!(render_markdown("run `docker *push*` now"), "run docker *push* now");
        assert_eq!(render_markdown("**bold with *italic* inside**"), "bold with italic inside");
    }

    #[test]
    fn stars_that_are_not_emphasis_stay() {
        console::set_colors_enabled(false);
        assert_eq!(render_markdown("2 * 3 * 4 = 24"), "2 * 3 * 4 = 24");
        assert_eq!(render_markdown("delete *.tar and keep *"), "delete *.tar and keep *");
        assert_eq!(render_markdown("an open *star"), "an open *star");
    }
}
