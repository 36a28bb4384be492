//! Pictures drawn on the server as SVG, so they need no script: a workflow's steps and the
//! events between them, and timeliness bars. Each has a text alternative beside it on the page;
//! every piece of text is escaped.
use std::collections::{BTreeMap, VecDeque};

use handlebars::html_escape as esc;

use crate::engine::Workflow;

const BOX_W: i32 = 230;
const BOX_H: i32 = 64;
const GAP_X: i32 = 50;
const GAP_Y: i32 = 80;
const MARGIN: i32 = 20;

/// Splits text into lines of at most `width` characters at spaces.
fn lines(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out.truncate(3);
    out
}

/// States in rows by their distance from the initial state; events as arrows (declines dashed).
pub fn workflow(wf: &Workflow, title: &str, lang: crate::i18n::Language) -> String {
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([(wf.def.initial.as_str(), 0usize)]);
    while let Some((s, d)) = queue.pop_front() {
        if depth.contains_key(s) {
            continue;
        }
        depth.insert(s, d);
        for t in wf
            .def
            .transitions
            .iter()
            .filter(|t| t.from.iter().any(|f| f == s))
        {
            if !depth.contains_key(t.to.as_str()) {
                queue.push_back((t.to.as_str(), d + 1));
            }
        }
    }
    // Ends go on the last row, so the arrows into them run downwards.
    let deepest = wf
        .def
        .states
        .iter()
        .filter(|s| !s.terminal)
        .filter_map(|s| depth.get(s.id.as_str()))
        .max()
        .copied()
        .unwrap_or(0);
    let mut rows: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for state in &wf.def.states {
        let d = if state.terminal {
            deepest + 1
        } else {
            depth.get(state.id.as_str()).copied().unwrap_or(0)
        };
        rows.entry(d).or_default().push(&state.id);
    }
    let widest = rows.values().map(Vec::len).max().unwrap_or(1) as i32;
    let width = MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X + 120;
    let height = MARGIN * 2 + rows.len() as i32 * (BOX_H + GAP_Y);
    let mut at: BTreeMap<&str, (i32, i32)> = BTreeMap::new();
    for (d, states) in &rows {
        let n = states.len() as i32;
        let row_w = n * BOX_W + (n - 1) * GAP_X;
        let x0 = (width - 120 - row_w) / 2;
        for (i, s) in states.iter().enumerate() {
            at.insert(
                s,
                (
                    x0 + i as i32 * (BOX_W + GAP_X),
                    MARGIN + *d as i32 * (BOX_H + GAP_Y),
                ),
            );
        }
    }
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="sg-diagram" viewBox="0 0 {width} {height}" role="img" aria-labelledby="wf-title"><title id="wf-title">{}</title><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#0b0c0c"/></marker></defs>"##,
        esc(title)
    );
    for t in &wf.def.transitions {
        for from in &t.from {
            let (Some(&(x1, y1)), Some(&(x2, y2))) = (at.get(from.as_str()), at.get(t.to.as_str()))
            else {
                continue;
            };
            let style = if t.decline {
                r##"stroke="#d4351c" stroke-dasharray="6 4""##
            } else {
                r##"stroke="#0b0c0c""##
            };
            if from == &t.to {
                let (x, y) = (x1 + BOX_W, y1 + BOX_H / 2);
                svg.push_str(&format!(
                    r##"<path d="M {x} {} C {} {} {} {} {x} {}" fill="none" stroke-width="2" {style} marker-end="url(#arrow)"><title>{}</title></path>"##,
                    y - 12, x + 60, y - 40, x + 60, y + 40, y + 12, esc(t.title_in(lang))
                ));
                continue;
            }
            let (sx, sy, ex, ey) = if y2 > y1 {
                (x1 + BOX_W / 2, y1 + BOX_H, x2 + BOX_W / 2, y2)
            } else {
                (x1 + BOX_W / 2, y1, x2 + BOX_W / 2, y2 + BOX_H)
            };
            svg.push_str(&format!(
                r##"<line x1="{sx}" y1="{sy}" x2="{ex}" y2="{ey}" stroke-width="2" {style} marker-end="url(#arrow)"><title>{}</title></line>"##,
                esc(t.title_in(lang))
            ));
        }
    }
    for state in &wf.def.states {
        let Some(&(x, y)) = at.get(state.id.as_str()) else {
            continue;
        };
        let fill = if state.terminal { "#f3f2f1" } else { "#ffffff" };
        svg.push_str(&format!(
            r##"<g><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="#0b0c0c" stroke-width="2"/>"##
        ));
        for (i, line) in lines(state.title_in(lang), 30).iter().enumerate() {
            svg.push_str(&format!(
                r##"<text x="{}" y="{}" font-family="Arial, sans-serif" font-size="14" text-anchor="middle" fill="#0b0c0c">{}</text>"##,
                x + BOX_W / 2,
                y + 22 + i as i32 * 17,
                esc(line)
            ));
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

/// One bar per group: a share from 0 to 1, labelled with its percentage.
pub fn share_bars(title: &str, bars: &[(String, f64)]) -> String {
    let row = 34;
    let label_w = 220;
    let bar_w = 400;
    let height = 20 + bars.len().max(1) as i32 * row;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="sg-chart" viewBox="0 0 {} {height}" role="img" aria-labelledby="chart-title"><title id="chart-title">{}</title>"##,
        label_w + bar_w + 80,
        esc(title)
    );
    for (i, (group, share)) in bars.iter().enumerate() {
        let y = 10 + i as i32 * row;
        let w = (share.clamp(0.0, 1.0) * bar_w as f64).round() as i32;
        svg.push_str(&format!(
            r##"<text x="{}" y="{}" font-family="Arial, sans-serif" font-size="14" text-anchor="end" fill="#0b0c0c">{}</text><rect x="{label_w}" y="{y}" width="{bar_w}" height="22" fill="#f3f2f1"/><rect x="{label_w}" y="{y}" width="{w}" height="22" fill="#1d70b8"/><text x="{}" y="{}" font-family="Arial, sans-serif" font-size="14" fill="#0b0c0c">{:.0}%</text>"##,
            label_w - 8,
            y + 16,
            esc(group),
            label_w + bar_w + 8,
            y + 16,
            share * 100.0
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_wrapped() {
        let svg = share_bars("A <chart>", &[("Team <b>".into(), 0.5)]);
        assert!(
            svg.contains("A &lt;chart&gt;") && svg.contains("Team &lt;b&gt;"),
            "{svg}"
        );
        assert!(svg.contains("50%"));
        assert_eq!(
            lines("one two three four", 9),
            vec!["one two", "three", "four"]
        );
    }
}
