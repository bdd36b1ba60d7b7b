//! Cron expressions as Kubernetes CronJobs accept them: five fields
//! (minute, hour, day of month, month, day of week) with `*`, lists, ranges,
//! steps and month/day names, or one of the `@` macros.

/// The macros Kubernetes accepts in place of five fields.
pub(crate) const MACROS: [&str; 7] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// The number of `names[0]` (months count from 1, days from 0).
    first_name: u32,
    /// `?` is allowed (day of month, day of week).
    question: bool,
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        first_name: 0,
        question: false,
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        first_name: 0,
        question: false,
    },
    Field {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
        first_name: 0,
        question: true,
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
        first_name: 1,
        question: false,
    },
    Field {
        name: "day-of-week",
        // 7 is Sunday too, as in Kubernetes' parser.
        min: 0,
        max: 7,
        names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
        first_name: 0,
        question: true,
    },
];

/// Checks a schedule; on error, one message naming every invalid field.
pub(crate) fn check(schedule: &str) -> Result<(), String> {
    let trimmed = schedule.trim();
    if trimmed.starts_with('@') {
        return if MACROS.contains(&trimmed) {
            Ok(())
        } else {
            Err(format!(
                "unknown cron macro `{trimmed}`, expected one of {}",
                crate::names::one_of(MACROS)
            ))
        };
    }
    let parts: Vec<&str> = trimmed.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
            parts.len()
        ));
    }
    let problems: Vec<String> = parts
        .iter()
        .zip(&FIELDS)
        .filter_map(|(text, field)| {
            check_field(text, field)
                .err()
                .map(|why| format!("{} field `{text}`: {why}", field.name))
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn check_field(text: &str, field: &Field) -> Result<(), String> {
    if field.question && text == "?" {
        return Ok(());
    }
    for item in text.split(',') {
        check_item(item, field)?;
    }
    Ok(())
}

fn check_item(item: &str, field: &Field) -> Result<(), String> {
    if item.is_empty() {
        return Err("empty list item".to_owned());
    }
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => (range, Some(step)),
        None => (item, None),
    };
    if let Some(step) = step {
        let step: u32 = step
            .parse()
            .map_err(|_| format!("step `{step}` is not a number"))?;
        if step == 0 {
            return Err("step must be at least 1".to_owned());
        }
    }
    if range == "*" {
        return Ok(());
    }
    match range.split_once('-') {
        Some((from, to)) => {
            let from = value(from, field)?;
            let to = value(to, field)?;
            if from > to {
                return Err(format!("range {from}-{to} goes backwards"));
            }
        }
        None => {
            value(range, field)?;
        }
    }
    Ok(())
}

fn value(text: &str, field: &Field) -> Result<u32, String> {
    let lower = text.to_ascii_lowercase();
    if let Some(i) = field.names.iter().position(|n| *n == lower) {
        return Ok(u32::try_from(i).unwrap_or(0) + field.first_name);
    }
    let n: u32 = text.parse().map_err(|_| {
        if field.names.is_empty() {
            format!("`{text}` is not a number")
        } else {
            format!("`{text}` is not a number or a name")
        }
    })?;
    if n < field.min || n > field.max {
        return Err(format!("{n} is out of range {}-{}", field.min, field.max));
    }
    Ok(n)
}
