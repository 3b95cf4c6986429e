//! The low level of argument handling: an operation's flag table ([`Flag`]) and the raw values
//! argparse-style parsing leaves ([`Flags`]). Turning those strings into request members is
//! `params`'s job.

use std::collections::BTreeMap;

use super::failure::Failure;

/// How a flag takes values.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    One,
    Many,
    /// `--force` / `--no-force`.
    Switch,
}

/// A flag: its name, how it takes values, whether it is required.
#[derive(Clone, Copy)]
pub struct Flag {
    pub name: &'static str,
    pub arity: Arity,
    pub required: bool,
}

impl Flag {
    /// An optional flag with one value.
    pub const fn one(name: &'static str) -> Self {
        Self { name, arity: Arity::One, required: false }
    }

    /// An optional flag with one or more values.
    pub const fn many(name: &'static str) -> Self {
        Self { name, arity: Arity::Many, required: false }
    }

    /// An optional `--flag` / `--no-flag`.
    pub const fn switch(name: &'static str) -> Self {
        Self { name, arity: Arity::Switch, required: false }
    }

    /// The same flag, required.
    pub const fn required(self) -> Self {
        Self { required: true, ..self }
    }

    fn matches(&self, arg: &str, negated: Option<&str>) -> bool {
        self.name == arg || (self.arity == Arity::Switch && negated == Some(self.name))
    }
}

/// Parsed `--flag value...` arguments of one operation.
pub struct Flags {
    values: BTreeMap<&'static str, Vec<String>>,
}

impl Flags {
    /// argparse's reading of `args` against `spec`: unknown options, then missing required ones.
    pub fn parse(args: &[String], spec: &[Flag]) -> Result<Self, Failure> {
        let mut values: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        let mut unknown = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            let negated = arg.strip_prefix("--no-").map(|rest| format!("--{rest}"));
            i += 1;
            let Some(flag) = spec.iter().find(|f| f.matches(arg, negated.as_deref())) else {
                unknown.push(arg.clone());
                continue;
            };
            let taken = take_values(flag, negated.is_some(), args, &mut i)?;
            values.insert(flag.name, taken);
        }
        if !unknown.is_empty() {
            return Err(Failure::UnknownOptions(unknown.join(", ")));
        }
        let missing: Vec<&str> =
            spec.iter().filter(|f| f.required && !values.contains_key(f.name)).map(|f| f.name).collect();
        if !missing.is_empty() {
            return Err(Failure::Usage(format!("the following arguments are required: {}", missing.join(", "))));
        }
        Ok(Self { values })
    }

    pub fn one(&self, flag: &str) -> Option<String> {
        self.values.get(flag).and_then(|v| v.first()).cloned()
    }

    pub fn many(&self, flag: &str) -> Option<Vec<String>> {
        self.values.get(flag).cloned()
    }

    pub fn switch(&self, flag: &str) -> Option<bool> {
        self.one(flag).map(|v| v == "true")
    }
}

/// The values of `flag`, whose name was just read; `i` moves past them.
fn take_values(flag: &Flag, negated: bool, args: &[String], i: &mut usize) -> Result<Vec<String>, Failure> {
    match flag.arity {
        Arity::Switch => Ok(vec![(!negated).to_string()]),
        Arity::One => match args.get(*i) {
            Some(value) => {
                *i += 1;
                Ok(vec![value.clone()])
            }
            None => Err(Failure::Usage(format!("argument {}: expected one argument", flag.name))),
        },
        Arity::Many => {
            let start = *i;
            while *i < args.len() && !args[*i].starts_with("--") {
                *i += 1;
            }
            if start == *i {
                return Err(Failure::Usage(format!("argument {}: expected at least one argument", flag.name)));
            }
            Ok(args[start..*i].to_vec())
        }
    }
}
