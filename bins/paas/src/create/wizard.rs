//! The wizard of `paas service create`: on a terminal, asks on stderr for
//! every value the flags did not give (an invalid answer is explained and
//! asked again), then shows a summary and asks to go on. It reads and writes
//! through `BufRead`/`Write` so the tests script it.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use platform_config::Platform;

use super::{Answers, Invalid, check_name, check_owner, check_target, templates};
use crate::Failure;
use crate::cli::{CreateArgs, Template};

/// The templates in the order the wizard numbers them (the first is the default).
const CHOICES: [Template; 4] = [
    Template::Golang,
    Template::Rust,
    Template::Python,
    Template::Node,
];

/// Asks for the values `args` lacks.
pub(crate) fn ask(
    input: &mut impl BufRead,
    out: &mut impl Write,
    args: &CreateArgs,
    platform: &Platform,
) -> Result<Answers, Failure> {
    let name = match &args.name {
        Some(n) => n.clone(),
        None => loop {
            let answer = prompt(
                input,
                out,
                "Service name (lowercase letters, digits and '-', at most 40 characters): ",
            )?;
            if let Err(e) = check_name(&answer, platform) {
                explain(out, &e)?;
                continue;
            }
            // The default directory is ./<name>: refuse it now, not after every question.
            if args.dir.is_none()
                && let Err(f) = check_target(Path::new(&answer))
            {
                say(out, &format!("{}\n", f.message))?;
                continue;
            }
            break answer;
        },
    };
    let template = match args.template {
        Some(t) => t,
        None => {
            let mut menu = String::from("Template:\n");
            for (i, t) in CHOICES.iter().enumerate() {
                let language = templates::language(*t);
                let version = platform
                    .engines
                    .get(language.engine)
                    .map(|e| format!(" {}", e.default_version))
                    .unwrap_or_default();
                menu.push_str(&format!(
                    "  {}) {:<7} {}{version}\n",
                    i + 1,
                    language.engine,
                    language.label
                ));
            }
            say(out, &menu)?;
            loop {
                let answer = prompt(input, out, "Choose 1-4 [1]: ")?;
                match choice(&answer) {
                    Some(t) => break t,
                    None => say(
                        out,
                        &format!(
                            "`{answer}` is not one of the choices: type 1 to 4, or golang, rust, python or node\n"
                        ),
                    )?,
                }
            }
        }
    };
    let owner = match &args.owner {
        Some(o) => o.clone(),
        None => loop {
            let answer = prompt(input, out, "Owning team: ")?;
            match check_owner(&answer) {
                Ok(()) => break answer,
                Err(e) => explain(out, &e)?,
            }
        },
    };
    Ok(Answers {
        name,
        template,
        owner,
    })
}

/// Shows what will be created and asks to go on (Enter is yes).
pub(crate) fn confirm(
    input: &mut impl BufRead,
    out: &mut impl Write,
    answers: &Answers,
    dir: &Path,
    platform: &Platform,
) -> Result<(), Failure> {
    say(out, &summary(answers, dir, platform))?;
    loop {
        let answer = prompt(input, out, "Create it? [Y/n] ")?;
        match answer.to_ascii_lowercase().as_str() {
            "" | "y" | "yes" => return Ok(()),
            "n" | "no" => return Err(Failure::failed("nothing was created")),
            _ => say(out, "answer y or n\n")?,
        }
    }
}

/// The summary the wizard shows before it creates anything.
pub(crate) fn summary(answers: &Answers, dir: &Path, platform: &Platform) -> String {
    let language = templates::language(answers.template);
    let engine = platform.engines.get(language.engine);
    let runtime = engine.map_or_else(String::new, |e| {
        format!(
            " (engine {} {}, port {})",
            language.engine, e.default_version, e.port
        )
    });
    format!(
        "\nA new service repository:\n\
         \x20 name       {}\n\
         \x20 template   {}{runtime}\n\
         \x20 owner      {}\n\
         \x20 directory  {}\n",
        answers.name,
        language.label,
        answers.owner,
        PathBuf::from(dir).display()
    )
}

/// A template from a wizard answer: a number, a name, or empty for the default.
fn choice(answer: &str) -> Option<Template> {
    let answer = answer.trim().to_ascii_lowercase();
    if answer.is_empty() {
        return Some(CHOICES[0]);
    }
    if let Ok(n) = answer.parse::<usize>() {
        return n.checked_sub(1).and_then(|i| CHOICES.get(i)).copied();
    }
    CHOICES
        .iter()
        .find(|t| {
            let language = templates::language(**t);
            language.engine == answer || language.label.to_ascii_lowercase() == answer
        })
        .copied()
}

fn prompt(
    input: &mut impl BufRead,
    out: &mut impl Write,
    question: &str,
) -> Result<String, Failure> {
    say(out, question)?;
    let mut line = String::new();
    let n = input
        .read_line(&mut line)
        .map_err(|e| Failure::failed(format!("error: cannot read the answer: {e}")))?;
    if n == 0 {
        let _ = writeln!(out);
        return Err(Failure::failed(
            "error: no answer (end of input); nothing was created",
        ));
    }
    Ok(line.trim().to_owned())
}

fn explain(out: &mut impl Write, invalid: &Invalid) -> Result<(), Failure> {
    say(out, &format!("{}\n", invalid.text()))
}

fn say(out: &mut impl Write, text: &str) -> Result<(), Failure> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::failed(format!("error: cannot write to the terminal: {e}")))
}
