//! Words: continuation joining, `KEY=value` pairs, variable expansion and shell command lines.

use std::collections::HashMap;

/// Joins a raw instruction argument that spans lines: removes each escape-newline pair and the
/// comment and blank lines inside the continuation, as the Dockerfile frontend does.
pub fn join_continuations(raw: &str, escape: char) -> String {
    let mut joined = String::with_capacity(raw.len());
    let mut lines = raw.split('\n').peekable();
    let mut continuing = false;
    while let Some(line) = lines.next() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if continuing {
            let trimmed = line.trim_start();
            if trimmed.starts_with('#') || trimmed.is_empty() {
                continue;
            }
        }
        let body = line.trim_end();
        match body.strip_suffix(escape) {
            Some(head) if lines.peek().is_some() && !ends_with_escaped_escape(head, escape) => {
                joined.push_str(head);
                continuing = true;
            }
            _ => {
                joined.push_str(line);
                continuing = false;
                if lines.peek().is_some() {
                    joined.push('\n');
                }
            }
        }
    }
    joined
}

fn ends_with_escaped_escape(head: &str, escape: char) -> bool {
    head.chars().rev().take_while(|&c| c == escape).count() % 2 == 1
}

/// Splits on unquoted whitespace, keeping quotes and escapes in each word.
pub fn split_raw_words(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, c) if c == escape && quote != Some('\'') => {
                word.push(c);
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            (Some(q), c) if c == q => {
                quote = None;
                word.push(c);
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                word.push(c);
            }
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Reads `ENV`/`LABEL` arguments: `K=V K2="v 2"` or the legacy `K value with spaces`.
/// Keys and values are raw (quotes kept), as written.
pub fn parse_pairs(text: &str, escape: char) -> Result<Vec<(String, String)>, String> {
    let words = split_raw_words(text, escape);
    let Some(first) = words.first() else { return Err("missing arguments".into()) };
    if !first.contains('=') {
        let value = text.trim_start()[first.len()..].trim().to_string();
        if value.is_empty() {
            return Err(format!("`{first}` has no value"));
        }
        return Ok(vec![(first.clone(), value)]);
    }
    words
        .iter()
        .map(|word| match word.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
            _ => Err(format!("`{word}` is not of the form KEY=value")),
        })
        .collect()
}

/// Where `expand` looks variables up.
pub trait Variables {
    fn value(&self, name: &str) -> Option<&str>;
}

impl Variables for HashMap<String, String> {
    fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

/// A stage's variables: `ENV` wins over an `ARG` of the same name.
pub struct Scope<'a> {
    pub env: &'a HashMap<String, String>,
    pub args: &'a HashMap<String, String>,
}

impl Variables for Scope<'_> {
    fn value(&self, name: &str) -> Option<&str> {
        self.env.value(name).or_else(|| self.args.value(name))
    }
}

/// Expands `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`
/// and removes quotes and escapes, as the Dockerfile frontend does for `ENV`, `COPY`, `USER`,
/// `WORKDIR` and the rest. Unknown variables expand to nothing. Nesting deeper than
/// `MAX_NESTING` is kept as written, and the result is cut at `MAX_EXPANDED_BYTES`.
pub fn expand(word: &str, escape: char, vars: &impl Variables) -> String {
    expand_nested(word, escape, vars, 0)
}

/// How deep `${...}` defaults nest before the rest is kept as written, and how many bytes one
/// expanded word keeps. Real Containerfiles stay far inside both; the bounds keep a hostile
/// one from exhausting the stack, or memory with a doubling chain of `ENV A=$A$A`.
const MAX_NESTING: usize = 16;
const MAX_EXPANDED_BYTES: usize = 4096;

fn expand_nested(word: &str, escape: char, vars: &impl Variables, depth: usize) -> String {
    if depth > MAX_NESTING {
        return truncated(word.to_string());
    }
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len().min(MAX_EXPANDED_BYTES));
    let mut at = 0;
    let mut quote: Option<char> = None;
    while at < chars.len() && out.len() < MAX_EXPANDED_BYTES {
        let c = chars[at];
        match (quote, c) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('\''), _) => out.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (_, c) if c == escape => {
                at += 1;
                if let Some(&next) = chars.get(at) {
                    // Inside double quotes the escape only applies to a few characters.
                    if quote == Some('"') && !matches!(next, '"' | '$') && next != escape {
                        out.push(c);
                    }
                    out.push(next);
                }
            }
            (_, '$') => {
                let (value, next) = expand_variable(&chars, at, escape, vars, depth);
                out.push_str(&value);
                at = next;
                continue;
            }
            _ => out.push(c),
        }
        at += 1;
    }
    truncated(out)
}

fn truncated(mut text: String) -> String {
    if text.len() > MAX_EXPANDED_BYTES {
        let mut end = MAX_EXPANDED_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Expands the variable that starts at `chars[at] == '$'`, returning its value and the index
/// after it.
fn expand_variable(
    chars: &[char],
    at: usize,
    escape: char,
    vars: &impl Variables,
    depth: usize,
) -> (String, usize) {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if chars.get(at + 1) == Some(&'{') {
        let Some(close) = matching_brace(chars, at + 2) else {
            return (chars[at..].iter().collect(), chars.len());
        };
        let inner: String = chars[at + 2..close].iter().collect();
        let name_end = inner.find(|c: char| !is_name(c)).unwrap_or(inner.len());
        let (name, rest) = inner.split_at(name_end);
        let value = vars.value(name);
        let expanded = match rest {
            "" => value.unwrap_or_default().to_string(),
            _ => {
                // The operator is one character, or two after a colon; `rest` may start with
                // any character, so split on a character boundary.
                let operator_chars = if rest.starts_with(':') { 2 } else { 1 };
                let split = rest.char_indices().nth(operator_chars).map_or(rest.len(), |(i, _)| i);
                let (operator, operand) = rest.split_at(split);
                let operand = || expand_nested(operand, escape, vars, depth + 1);
                let set = value.is_some();
                let non_empty = value.is_some_and(|v| !v.is_empty());
                match operator {
                    ":-" if non_empty => value.unwrap_or_default().to_string(),
                    ":-" => operand(),
                    "-" if set => value.unwrap_or_default().to_string(),
                    "-" => operand(),
                    ":+" if non_empty => operand(),
                    "+" if set => operand(),
                    ":?" | "?" => value.unwrap_or_default().to_string(),
                    _ => String::new(),
                }
            }
        };
        return (expanded, close + 1);
    }
    let name_end =
        chars[at + 1..].iter().position(|&c| !is_name(c)).map_or(chars.len(), |p| p + at + 1);
    if name_end == at + 1 {
        return ("$".into(), at + 1);
    }
    let name: String = chars[at + 1..name_end].iter().collect();
    (vars.value(&name).unwrap_or_default().to_string(), name_end)
}

fn matching_brace(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 1;
    for (offset, &c) in chars[from..].iter().enumerate() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(from + offset);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits a POSIX shell script into simple commands (on `&&`, `||`, `;`, `|`, `&` and line
/// breaks), each a list of words with quotes removed. Enough to recognise `cd DIR` and
/// `deno cache FILE` in a `RUN` line; not a shell.
pub fn shell_commands(script: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut command = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = script.chars().peekable();
    let finish_word = |word: &mut String, in_word: &mut bool, command: &mut Vec<String>| {
        if *in_word {
            command.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => match chars.next() {
                Some(next @ ('"' | '\\' | '$' | '`')) => word.push(next),
                Some('\n') => {}
                Some(next) => {
                    word.push('\\');
                    word.push(next);
                }
                None => word.push('\\'),
            },
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(next) = chars.next() {
                    if next != '\n' {
                        word.push(next);
                        in_word = true;
                    }
                }
            }
            (None, '#') if !in_word => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            (None, ';' | '&' | '|' | '\n' | '(' | ')') => {
                finish_word(&mut word, &mut in_word, &mut command);
                if !command.is_empty() {
                    commands.push(std::mem::take(&mut command));
                }
            }
            (None, c) if c.is_whitespace() => finish_word(&mut word, &mut in_word, &mut command),
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    finish_word(&mut word, &mut in_word, &mut command);
    if !command.is_empty() {
        commands.push(command);
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn joins_continuations_dropping_comment_and_blank_lines() {
        let raw = "echo a \\\n# note\n\n  && echo \"b\"";
        assert_eq!(join_continuations(raw, '\\'), "echo a   && echo \"b\"");
        assert_eq!(join_continuations("dir C:\\\\", '\\'), "dir C:\\\\");
        assert_eq!(join_continuations("a `\n  b", '`'), "a   b");
    }

    #[test]
    fn parses_pairs_in_both_forms() {
        assert_eq!(
            parse_pairs("A=1 B=\"two words\" C=3", '\\').unwrap(),
            [
                ("A".into(), "1".into()),
                ("B".into(), "\"two words\"".into()),
                ("C".into(), "3".into())
            ]
        );
        assert_eq!(parse_pairs("D 4 5", '\\').unwrap(), [("D".into(), "4 5".into())]);
        assert!(parse_pairs("A=1 B", '\\').is_err());
        assert!(parse_pairs("LONELY", '\\').is_err());
    }

    #[test]
    fn expands_every_supported_form() {
        let v = vars(&[("NAME", "deno"), ("EMPTY", "")]);
        assert_eq!(expand("$NAME", '\\', &v), "deno");
        assert_eq!(expand("${NAME}-x", '\\', &v), "deno-x");
        assert_eq!(expand("${MISSING:-alpine}", '\\', &v), "alpine");
        assert_eq!(expand("${EMPTY:-alpine}", '\\', &v), "alpine");
        assert_eq!(expand("${EMPTY-alpine}", '\\', &v), "");
        assert_eq!(expand("${NAME:+set}", '\\', &v), "set");
        assert_eq!(expand("${MISSING:+set}", '\\', &v), "");
        assert_eq!(expand("${MISSING:-${NAME}}", '\\', &v), "deno");
        assert_eq!(expand("'$NAME' \"$NAME\" \\$NAME", '\\', &v), "$NAME deno $NAME");
        assert_eq!(expand("`$NAME", '`', &v), "$NAME");
        assert_eq!(expand("cost$", '\\', &v), "cost$");
    }

    #[test]
    fn non_ascii_after_a_brace_is_not_split_inside_a_character() {
        let v = vars(&[("NAME", "deno")]);
        assert_eq!(expand("${ñAME}", '\\', &v), "");
        assert_eq!(expand("${NAME:ñ}", '\\', &v), "");
        assert_eq!(expand("${NAME:}", '\\', &v), "");
        assert_eq!(expand("x${NAME-ñ}", '\\', &v), "xdeno");
        assert_eq!(expand("${MISSING:-ñ}", '\\', &v), "ñ");
    }

    #[test]
    fn deeply_nested_defaults_do_not_exhaust_the_stack() {
        let depth = 100_000;
        let word = format!("{}x{}", "${A:-".repeat(depth), "}".repeat(depth));
        let expanded = expand(&word, '\\', &vars(&[]));
        // The default 17 levels down is kept as written, then cut.
        let skipped = "${A:-".len() * (MAX_NESTING + 1);
        assert_eq!(expanded, word[skipped..skipped + MAX_EXPANDED_BYTES]);
    }

    #[test]
    fn a_doubling_chain_of_variables_stays_bounded() {
        let mut value = "ab".to_string();
        for _ in 0..64 {
            value = expand("$A$A", '\\', &vars(&[("A", &value)]));
        }
        assert_eq!(value, "ab".repeat(MAX_EXPANDED_BYTES / 2));
        assert_eq!(expand("${A:-ñ}", '\\', &vars(&[("A", &"ñ".repeat(3000))])).len(), 4096);
    }

    #[test]
    fn splits_shell_commands() {
        let script = "cd /app && deno cache 'main.ts' ; echo \"a b\" | tee x # done\nls";
        assert_eq!(
            shell_commands(script),
            [
                vec!["cd", "/app"],
                vec!["deno", "cache", "main.ts"],
                vec!["echo", "a b"],
                vec!["tee", "x"],
                vec!["ls"],
            ]
        );
    }
}
