//! Everything printed to stdout: the formats of each command's results.

pub mod sarif;
pub mod validation;

use std::io::IsTerminal;

/// ANSI styling, on only when stdout is a terminal and `NO_COLOR` is unset or empty.
#[derive(Clone, Copy)]
pub struct Style {
    enabled: bool,
}

impl Style {
    pub fn detect() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style { enabled: !no_color && std::io::stdout().is_terminal() }
    }

    pub fn paint(self, code: &str, text: &str) -> String {
        if self.enabled { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }

    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn red(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    pub fn yellow(self, text: &str) -> String {
        self.paint("1;33", text)
    }

    pub fn green(self, text: &str) -> String {
        self.paint("1;32", text)
    }

    pub fn blue(self, text: &str) -> String {
        self.paint("1;34", text)
    }

    pub fn cyan(self, text: &str) -> String {
        self.paint("1;36", text)
    }
}

/// Seconds to the millisecond: as fine as the measured figures go.
pub fn round(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// Escapes the message part of a GitHub workflow command.
pub fn github_escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value of a GitHub workflow command.
pub fn github_escape_property(text: &str) -> String {
    github_escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_github_commands() {
        assert_eq!(github_escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(github_escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
