//! The lab shell's grammar: a small, bash-compatible subset. Words with '…' and "…" quoting and `\`
//! escapes, `$VAR`, `${VAR}`, `$?` and `$(…)`, pipelines joined by `|`, lists joined by `&&`, `||`
//! and `;`, `#` comments, `NAME=value` words before a command, and output redirections
//! (`>`, `>>`, `2>`, `2>>`, `&>`, `2>&1`).

/// One piece of a word, before expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// `$NAME`, `${NAME}` or `$?`.
    Var(String),
    /// `$(command line)`.
    Command(String),
}

/// A word: pieces that expand and join into one argument.
pub type Word = Vec<Piece>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirect {
    /// `> FILE`
    Out,
    /// `>> FILE`
    Append,
    /// `2> FILE`
    Err,
    /// `2>> FILE`
    ErrAppend,
    /// `&> FILE`
    Both,
    /// `2>&1`
    ErrToOut,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SimpleCommand {
    /// `NAME=value` words before the command.
    pub assignments: Vec<(String, Word)>,
    pub words: Vec<Word>,
    /// In order; the word is the target file (none for `2>&1`).
    pub redirects: Vec<(Redirect, Option<Word>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// `;` or end of line: run the next regardless.
    Always,
    /// `&&`: run the next if this succeeded.
    And,
    /// `||`: run the next if this failed.
    Or,
}

/// A pipeline and how the next one depends on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub commands: Vec<SimpleCommand>,
    pub then: Join,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(Word),
    Pipe,
    And,
    Or,
    Semi,
    Redirect(Redirect),
}

/// Parses one input line.
pub fn parse(line: &str) -> Result<Vec<Pipeline>, ParseError> {
    let tokens = tokenize(line)?;
    let mut pipelines = Vec::new();
    let mut commands = Vec::new();
    let mut current = SimpleCommand::default();
    let syntax = |near: &str| ParseError(format!("syntax error near unexpected token `{near}'"));
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            Token::Redirect(Redirect::ErrToOut) => current.redirects.push((Redirect::ErrToOut, None)),
            Token::Redirect(kind) => match tokens.next() {
                Some(Token::Word(target)) => current.redirects.push((kind, Some(target))),
                _ => return Err(syntax("newline")),
            },
            Token::Word(word) => {
                if current.words.is_empty()
                    && let Some((name, value)) = assignment(&word)
                {
                    current.assignments.push((name, value));
                } else {
                    current.words.push(word);
                }
            }
            Token::Pipe | Token::And | Token::Or | Token::Semi => {
                let symbol = match token {
                    Token::Pipe => "|",
                    Token::And => "&&",
                    Token::Or => "||",
                    _ => ";",
                };
                if current.words.is_empty() && current.assignments.is_empty() {
                    return Err(syntax(symbol));
                }
                commands.push(std::mem::take(&mut current));
                let then = match token {
                    Token::Pipe => continue,
                    Token::And => Join::And,
                    Token::Or => Join::Or,
                    _ => Join::Always,
                };
                pipelines.push(Pipeline { commands: std::mem::take(&mut commands), then });
            }
        }
    }
    if !current.words.is_empty() || !current.assignments.is_empty() {
        commands.push(current);
    } else if !commands.is_empty() {
        return Err(ParseError("syntax error: unexpected end of line after `|'".into()));
    }
    if !commands.is_empty() {
        pipelines.push(Pipeline { commands, then: Join::Always });
    }
    if let Some(last) = pipelines.last()
        && last.then != Join::Always
    {
        return Err(ParseError("syntax error: unexpected end of line".into()));
    }
    Ok(pipelines)
}

/// `NAME=value` as the first word(s) of a command.
fn assignment(word: &Word) -> Option<(String, Word)> {
    let Some(Piece::Text(first)) = word.first() else { return None };
    let (name, rest) = first.split_once('=')?;
    let valid = !name.is_empty()
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return None;
    }
    let mut value = vec![Piece::Text(rest.to_owned())];
    value.extend(word[1..].iter().cloned());
    Some((name.to_owned(), value))
}

fn tokenize(line: &str) -> Result<Vec<Token>, ParseError> {
    let mut lexer = Lexer { chars: line.chars().collect(), i: 0, tokens: Vec::new(), word: Vec::new(), in_word: false };
    while let Some(&c) = lexer.chars.get(lexer.i) {
        let next = lexer.chars.get(lexer.i + 1).copied();
        match c {
            ' ' | '\t' => {
                lexer.end_word();
                lexer.i += 1;
            }
            '#' if !lexer.in_word => break,
            '>' => {
                lexer.end_word();
                let append = next == Some('>');
                lexer.tokens.push(Token::Redirect(if append { Redirect::Append } else { Redirect::Out }));
                lexer.i += if append { 2 } else { 1 };
            }
            '2' if !lexer.in_word && next == Some('>') => lexer.stderr_redirect(),
            '&' if next == Some('>') => {
                lexer.end_word();
                lexer.tokens.push(Token::Redirect(Redirect::Both));
                lexer.i += 2;
            }
            '|' | '&' | ';' => lexer.operator(c, next == Some(c))?,
            '\'' => lexer.single_quoted()?,
            '"' => lexer.double_quoted()?,
            '\\' => {
                lexer.in_word = true;
                if let Some(next) = next {
                    push_text(&mut lexer.word, next);
                }
                lexer.i += 2;
            }
            '$' => {
                lexer.in_word = true;
                lexer.i = dollar(&lexer.chars, lexer.i, &mut lexer.word)?;
            }
            _ => {
                lexer.in_word = true;
                push_text(&mut lexer.word, c);
                lexer.i += 1;
            }
        }
    }
    lexer.end_word();
    Ok(lexer.tokens)
}

/// The tokenizer's state: the line, where it is, the tokens so far and the word being read.
struct Lexer {
    chars: Vec<char>,
    i: usize,
    tokens: Vec<Token>,
    word: Word,
    /// Whether a word has started (`''` starts an empty one).
    in_word: bool,
}

impl Lexer {
    fn end_word(&mut self) {
        if self.in_word {
            self.tokens.push(Token::Word(std::mem::take(&mut self.word)));
            self.in_word = false;
        }
    }

    /// `2>&1`, `2>>` or `2>` at `i`.
    fn stderr_redirect(&mut self) {
        let rest: String = self.chars[self.i..].iter().take(4).collect();
        let (kind, len) = if rest.starts_with("2>&1") {
            (Redirect::ErrToOut, 4)
        } else if rest.starts_with("2>>") {
            (Redirect::ErrAppend, 3)
        } else {
            (Redirect::Err, 2)
        };
        self.tokens.push(Token::Redirect(kind));
        self.i += len;
    }

    /// `|`, `||`, `&&`, `;` (a lone `&` is refused).
    fn operator(&mut self, c: char, double: bool) -> Result<(), ParseError> {
        self.end_word();
        self.tokens.push(match (c, double) {
            ('|', true) => Token::Or,
            ('|', false) => Token::Pipe,
            ('&', true) => Token::And,
            ('&', false) => {
                return Err(ParseError("background jobs (`&`) are not supported in the lab shell".into()));
            }
            _ => Token::Semi,
        });
        self.i += if double && c != ';' { 2 } else { 1 };
        Ok(())
    }

    /// `'…'`: text as is.
    fn single_quoted(&mut self) -> Result<(), ParseError> {
        self.in_word = true;
        let start = self.i + 1;
        let end = self.chars[start..]
            .iter()
            .position(|&c| c == '\'')
            .ok_or_else(|| ParseError("unexpected end of line while looking for matching `''".into()))?;
        self.word.push(Piece::Text(self.chars[start..start + end].iter().collect()));
        self.i += end + 2;
        Ok(())
    }

    /// `"…"`: `\` escapes `"`, `\`, `$` and `` ` ``; `$…` expands.
    fn double_quoted(&mut self) -> Result<(), ParseError> {
        self.in_word = true;
        self.word.push(Piece::Text(String::new()));
        self.i += 1;
        loop {
            match self.chars.get(self.i) {
                None => return Err(ParseError("unexpected end of line while looking for matching `\"'".into())),
                Some('"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some('\\') if matches!(self.chars.get(self.i + 1), Some('"' | '\\' | '$' | '`')) => {
                    push_text(&mut self.word, self.chars[self.i + 1]);
                    self.i += 2;
                }
                Some('$') => self.i = dollar(&self.chars, self.i, &mut self.word)?,
                Some(&c) => {
                    push_text(&mut self.word, c);
                    self.i += 1;
                }
            }
        }
    }
}

fn push_text(word: &mut Word, c: char) {
    match word.last_mut() {
        Some(Piece::Text(text)) => text.push(c),
        _ => word.push(Piece::Text(c.to_string())),
    }
}

/// Reads a `$…` expansion at `i`; returns the index after it.
fn dollar(chars: &[char], i: usize, word: &mut Word) -> Result<usize, ParseError> {
    match chars.get(i + 1) {
        Some('?') => {
            word.push(Piece::Var("?".into()));
            Ok(i + 2)
        }
        Some('{') => {
            let end = chars[i + 2..]
                .iter()
                .position(|&c| c == '}')
                .ok_or_else(|| ParseError("bad substitution: missing `}'".into()))?;
            word.push(Piece::Var(chars[i + 2..i + 2 + end].iter().collect()));
            Ok(i + 3 + end)
        }
        Some('(') => {
            let mut depth = 0;
            let mut j = i + 1;
            let mut quote: Option<char> = None;
            while j < chars.len() {
                match (chars[j], quote) {
                    ('\'' | '"', None) => quote = Some(chars[j]),
                    (c, Some(q)) if c == q => quote = None,
                    ('(', None) => depth += 1,
                    (')', None) => {
                        depth -= 1;
                        if depth == 0 {
                            word.push(Piece::Command(chars[i + 2..j].iter().collect()));
                            return Ok(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            Err(ParseError("unexpected end of line while looking for matching `)'".into()))
        }
        Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
            let len = chars[i + 1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '_').count();
            word.push(Piece::Var(chars[i + 1..i + 1 + len].iter().collect()));
            Ok(i + 1 + len)
        }
        _ => {
            push_text(word, '$');
            Ok(i + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Word {
        vec![Piece::Text(s.into())]
    }

    #[test]
    fn the_login_pipe() {
        let parsed = parse(
            "aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin 920736617090.dkr.ecr.ap-south-1.amazonaws.com",
        )
        .unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].commands.len(), 2);
        assert_eq!(parsed[0].commands[1].words[0], text("docker"));
    }

    #[test]
    fn quoting_variables_and_lists() {
        let parsed = parse(r#"export REPO="my repo" && echo '$HOME' "$REPO:${TAG}" $? # comment"#).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].then, Join::And);
        let echo = &parsed[1].commands[0].words;
        assert_eq!(echo[1], text("$HOME"));
        assert_eq!(
            echo[2],
            vec![
                Piece::Text(String::new()),
                Piece::Var("REPO".into()),
                Piece::Text(":".into()),
                Piece::Var("TAG".into())
            ]
        );
        assert_eq!(echo[3], vec![Piece::Var("?".into())]);
        let creds = parse("skopeo --creds AWS:$(aws ecr get-login-password)").unwrap();
        assert_eq!(
            creds[0].commands[0].words[2],
            vec![Piece::Text("AWS:".into()), Piece::Command("aws ecr get-login-password".into())]
        );
        let assign = parse("A=1 B=x env").unwrap();
        assert_eq!(assign[0].commands[0].assignments.len(), 2);
        assert!(parse("echo 'unterminated").is_err());
        assert!(parse("| docker").is_err());
        assert!(parse("echo a &&").is_err());
        let redirected = parse("aws ecr create-repository --repository-name test > /dev/null 2>&1").unwrap();
        let command = &redirected[0].commands[0];
        assert_eq!(command.words.len(), 5);
        assert_eq!(command.redirects, vec![(Redirect::Out, Some(text("/dev/null"))), (Redirect::ErrToOut, None)]);
        assert!(parse("echo >").is_err());
    }
}
