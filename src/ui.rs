//! The only module that prints lesson content or prompts: stage headers, prose, hints, quizzes.

use std::collections::BTreeMap;

use console::style;

use crate::lesson::{Lesson, Quiz, Stage, fill};

pub struct Ui {
    interactive: bool,
}

impl Ui {
    pub fn new() -> Self {
        Self { interactive: std::io::IsTerminal::is_terminal(&std::io::stdin()) }
    }

    pub fn is_interactive(&self) -> bool {
        self.interactive
    }

    /// The stage's menu; the answer as the command it stands for.
    pub fn stage_menu(&self) -> &'static str {
        const CHOICES: [(&str, &str); 6] = [
            ("Work in the lab shell", "shell"),
            ("Check my work", "check"),
            ("Show a hint", "hint"),
            ("Show the solution", "solution"),
            ("Skip this stage", "skip"),
            ("Quit (progress is kept)", "quit"),
        ];
        let labels: Vec<&str> = CHOICES.iter().map(|(label, _)| *label).collect();
        match inquire::Select::new("What next?", labels).raw_prompt() {
            Ok(choice) => CHOICES[choice.index].1,
            Err(_) => "quit",
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
        let prose = stage.prose.trim();
        if !prose.is_empty() {
            println!("\n{}", render_markdown(&fill(prose, vars)));
        }
        for run in &stage.runs {
            println!();
            for line in run.body.lines() {
                println!("    {}", style(fill(line, vars)).green());
            }
        }
        for ui in &stage.ui {
            println!("\n{}", style("In the console:").bold());
            println!("{}", render_markdown(&fill(&ui.body, vars)));
        }
        if !stage.checks.is_empty() {
            println!("\n{}", style("Done when:").bold());
            for (check, _) in &stage.checks {
                println!("  ○ {}", check.describe(vars));
            }
        }
        println!();
    }

    pub fn hint(&self, level: usize, text: &str) {
        println!("{} {}", style(format!("Hint {level}:")).yellow().bold(), render_markdown(text.trim()));
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

    /// Asks a quiz: a menu on a terminal, otherwise the choice's number (from `typed` when the
    /// runner is already reading stdin).
    pub fn quiz(
        &self,
        quiz: &Quiz,
        vars: &BTreeMap<String, String>,
        typed: Option<&std::sync::mpsc::Receiver<String>>,
    ) {
        let prompt = fill(&quiz.prompt, vars);
        let choices: Vec<String> = quiz.choices.iter().map(|c| fill(c, vars)).collect();
        let picked = if self.interactive && typed.is_none() {
            inquire::Select::new(&prompt, choices.clone()).with_vim_mode(false).raw_prompt().ok().map(|c| c.index + 1)
        } else {
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
        };
        match picked {
            Some(answer) if answer == quiz.answer => println!(
                "{} {}",
                style("Right.").green().bold(),
                quiz.explain.as_deref().map(|e| fill(e, vars)).unwrap_or_default()
            ),
            _ => println!(
                "{} The answer is: {}. {}",
                style("Not quite.").red().bold(),
                choices.get(quiz.answer - 1).cloned().unwrap_or_default(),
                quiz.explain.as_deref().map(|e| fill(e, vars)).unwrap_or_default()
            ),
        }
    }
}

impl Default for Ui {
    fn default() -> Self {
        Self::new()
    }
}

/// Markdown for a terminal: headings bold, inline code highlighted, the rest as written.
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
                    out.push_str(&part.replace("**", ""));
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
}
