//! Here-documents in `RUN`, `COPY` and `ADD`.
//!
//! The parser crate reads a single here-document only when it opens the arguments of `RUN`
//! and rejects the rest (`RUN python3 <<EOF`, two here-documents in one instruction). This pass
//! finds every here-document itself, records it, and hands the parser a masked copy of the
//! text in which each marker is a placeholder word of the same length and each body line is a
//! comment. Byte offsets stay identical, so spans from the parser point into the original text.
//!
//! FIXME: drop the masking once the parser reads here-documents anywhere in a command,
//! <https://github.com/taiki-e/parse-dockerfile/blob/v0.1.9/src/lib.rs#L1863>.

use std::ops::Range;

/// One here-document: the marker in the instruction (`<<-"EOF"`) and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter without quotes or the `-`.
    pub name: String,
    /// Byte range of the marker (`<<EOF`) in the text.
    pub marker: Range<usize>,
    /// The body, each line ending in `\n`, tabs kept.
    pub content: String,
    /// `false` when the delimiter was quoted, so the body is taken literally.
    pub expand: bool,
    /// Byte offset just past the terminating delimiter line.
    pub end: usize,
}

/// The masked text and the here-documents found, in order.
pub struct Masked {
    pub text: String,
    pub heredocs: Vec<Heredoc>,
}

/// Finds the here-documents of `RUN`, `COPY` and `ADD` and masks them as described above.
pub fn mask(text: &str, escape: char) -> Masked {
    let mut masked = text.as_bytes().to_vec();
    let mut heredocs = Vec::new();
    let lines = line_ranges(text);

    let mut index = 0;
    'lines: while index < lines.len() {
        let line = &text[lines[index].clone()];
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            index += 1;
            continue;
        }

        // Gather the logical instruction: continuation lines, with comment lines inside it.
        let first = index;
        let mut last = index;
        while ends_with_escape(&text[lines[last].clone()], escape) && last + 1 < lines.len() {
            last += 1;
            while last + 1 < lines.len() && is_comment_or_blank(&text[lines[last].clone()]) {
                last += 1;
            }
        }
        index = last + 1;

        if !takes_heredocs(trimmed) {
            continue;
        }
        let markers = find_markers(text, lines[first].start..lines[last].end);
        for marker in markers {
            if index >= lines.len() {
                break;
            }
            let mut content = String::new();
            let mut end = None;
            let mut cursor = index;
            while let Some(range) = lines.get(cursor) {
                let body_line = &text[range.clone()];
                let compared =
                    if marker.strip_tabs { body_line.trim_start_matches('\t') } else { body_line };
                cursor += 1;
                if compared.trim_end_matches('\r') == marker.name {
                    end = Some(range.end);
                    break;
                }
                content.push_str(body_line);
                content.push('\n');
            }
            // An unterminated here-document runs to the end of the file, so nothing after it
            // is an instruction; it is left to the parser, which reports it.
            let Some(end) = end else { break 'lines };

            for byte in &mut masked[marker.range.clone()] {
                *byte = b'_';
            }
            for range in &lines[index..cursor] {
                // Overwrite the whole first character so the masked text stays valid UTF-8.
                if let Some(first) = text[range.clone()].chars().next() {
                    masked[range.start..range.start + first.len_utf8()].fill(b'#');
                }
            }
            heredocs.push(Heredoc {
                name: marker.name,
                marker: marker.range,
                content,
                expand: marker.expand,
                end,
            });
            index = cursor;
        }
    }

    // Markers are ASCII and body lines lose whole characters, so the text stays UTF-8.
    let text = String::from_utf8(masked).expect("masking replaces whole characters");
    Masked { text, heredocs }
}

struct Marker {
    name: String,
    range: Range<usize>,
    strip_tabs: bool,
    expand: bool,
}

fn takes_heredocs(line: &str) -> bool {
    let keyword: String = line.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    ["run", "copy", "add"].iter().any(|k| keyword.eq_ignore_ascii_case(k))
}

/// Markers `<<WORD`, `<<-WORD`, `<<"WORD"`, `<<'WORD'` outside quotes in `range`.
fn find_markers(text: &str, range: Range<usize>) -> Vec<Marker> {
    let bytes = text.as_bytes();
    let mut markers = Vec::new();
    let mut quote: Option<u8> = None;
    let mut at = range.start;
    while at < range.end {
        let byte = bytes[at];
        match (quote, byte) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(byte),
            (None, b'<')
                if bytes.get(at + 1) == Some(&b'<') && bytes.get(at + 2) != Some(&b'<') =>
            {
                if at > range.start && bytes[at - 1] == b'<' {
                    at += 1;
                    continue;
                }
                if let Some(marker) = read_marker(text, at, range.end) {
                    at = marker.range.end;
                    markers.push(marker);
                    continue;
                }
            }
            _ => {}
        }
        at += 1;
    }
    markers
}

fn read_marker(text: &str, start: usize, limit: usize) -> Option<Marker> {
    let bytes = text.as_bytes();
    let mut at = start + 2;
    let strip_tabs = bytes.get(at) == Some(&b'-');
    if strip_tabs {
        at += 1;
    }
    let mut name = String::new();
    let mut expand = true;
    let mut quote: Option<u8> = None;
    while at < limit {
        let byte = bytes[at];
        match (quote, byte) {
            (Some(q), b) if b == q => quote = None,
            (None, b'"' | b'\'') => {
                quote = Some(byte);
                expand = false;
            }
            (None, b) if b.is_ascii_whitespace() || b == b';' || b == b'&' || b == b'|' => break,
            (None, b'<' | b'>') => break,
            _ => name.push(byte as char),
        }
        at += 1;
    }
    if quote.is_some() || name.is_empty() || !name.is_ascii() {
        return None;
    }
    Some(Marker { name, range: start..at, strip_tabs, expand })
}

fn ends_with_escape(line: &str, escape: char) -> bool {
    line.trim_end().ends_with(escape) && !line.trim_start().starts_with('#')
}

fn is_comment_or_blank(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// Byte ranges of each line, without the line break.
fn line_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        if byte == b'\n' {
            ranges.push(start..at);
            start = at + 1;
        }
    }
    if start < text.len() {
        ranges.push(start..text.len());
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_two_heredocs_keeping_offsets() {
        let text = "FROM a\nRUN <<A cat <<-\"B\"\none\nA\n\ttwo\n\tB\nUSER x\n";
        let masked = mask(text, '\\');
        assert_eq!(masked.text.len(), text.len());
        assert_eq!(masked.text, "FROM a\nRUN ___ cat ______\n#ne\n#\n#two\n#B\nUSER x\n");
        let names: Vec<_> = masked.heredocs.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["A", "B"]);
        assert_eq!(masked.heredocs[0].content, "one\n");
        assert_eq!(masked.heredocs[1].content, "\ttwo\n");
        assert!(masked.heredocs[0].expand);
        assert!(!masked.heredocs[1].expand);
    }

    #[test]
    fn leaves_quoted_and_herestring_alone() {
        let text = "FROM a\nRUN echo '<<A' && cat <<<word\n";
        let masked = mask(text, '\\');
        assert!(masked.heredocs.is_empty());
        assert_eq!(masked.text, text);
    }

    #[test]
    fn finds_marker_on_a_continuation_line() {
        let text = "FROM a\nRUN set -e; \\\n  # note\n  python3 <<EOF\nprint(1)\nEOF\n";
        let masked = mask(text, '\\');
        assert_eq!(masked.heredocs.len(), 1);
        assert_eq!(masked.heredocs[0].content, "print(1)\n");
    }

    #[test]
    fn unterminated_heredoc_is_left_for_the_parser() {
        let text = "FROM a\nRUN <<EOF\necho\n";
        let masked = mask(text, '\\');
        assert!(masked.heredocs.is_empty());
        assert_eq!(masked.text, text);
    }

    #[test]
    fn each_unterminated_heredoc_does_not_search_the_rest_of_the_file_again() {
        // The first runs to the end of the file, so the rest is its body, not instructions:
        // 20,000 open markers in a row are one search, not 20,000.
        let text = format!("FROM a\n{}RUN <<Y\nY\n", "RUN <<X\n".repeat(20_000));
        let masked = mask(&text, '\\');
        assert!(masked.heredocs.is_empty());
        assert_eq!(masked.text, text);
    }
}
