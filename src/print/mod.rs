//! Printable records: a document of headings and lines laid out on A4 pages as a PDF. The font
//! is embedded (DejaVu Sans cut to the Latin letters, `static/fonts`), because a reader's PDF viewer may have no font with
//! ŵ and ŷ, and a substituted one drops or boxes them. Lines are wrapped by the font's own
//! advance widths, so a long Welsh word does not run off the page.
use printpdf::{CustomPdfConformance, IndirectFontRef, Mm, PdfConformance, PdfDocument};

use crate::error::AppError;

/// The font every record is written in; it has every letter of the Welsh alphabet.
pub const FONT: &[u8] = include_bytes!("../../static/fonts/DejaVuSans-Latin.ttf");

const PAGE_WIDTH: f32 = 210.0;
const PAGE_HEIGHT: f32 = 297.0;
const MARGIN: f32 = 20.0;
const POINT_IN_MM: f32 = 0.3528;

/// One line of a document, before wrapping.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Title(String),
    Heading(String),
    Text(String),
    Gap,
}

impl Line {
    fn size(&self) -> f32 {
        match self {
            Line::Title(_) => 16.0,
            Line::Heading(_) => 12.5,
            Line::Text(_) | Line::Gap => 10.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Document {
    /// The PDF's title, shown by viewers.
    pub title: String,
    /// Printed at the top of every page: the handling marking and the reference.
    pub marking: String,
    pub lines: Vec<Line>,
}

struct Measure<'a> {
    face: ttf_parser::Face<'a>,
}

impl Measure<'_> {
    /// The width of `text` at `size` points, in millimetres.
    fn width(&self, text: &str, size: f32) -> f32 {
        let per_em = f32::from(self.face.units_per_em());
        let units: f32 = text
            .chars()
            .map(|c| {
                self.face
                    .glyph_index(c)
                    .and_then(|g| self.face.glyph_hor_advance(g))
                    .map(f32::from)
                    .unwrap_or(per_em / 2.0)
            })
            .sum();
        units / per_em * size * POINT_IN_MM
    }

    /// Words onto lines no wider than `room`; a word wider than the line is broken by letters.
    fn wrap(&self, text: &str, size: f32, room: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.lines() {
            let mut line = String::new();
            for word in paragraph.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size) <= room {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                for c in word.chars() {
                    line.push(c);
                    if self.width(&line, size) > room {
                        line.pop();
                        lines.push(std::mem::take(&mut line));
                        line.push(c);
                    }
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// The document as PDF bytes.
pub fn pdf(doc: &Document) -> Result<Vec<u8>, AppError> {
    let failed = |e: &dyn std::fmt::Display| AppError::Internal(format!("writing a PDF: {e}"));
    let measure = Measure {
        face: ttf_parser::Face::parse(FONT, 0).map_err(|e| failed(&e))?,
    };
    let (pdf, page, layer) =
        PdfDocument::new(doc.title.as_str(), Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), "text");
    // No ICC profile or XMP packet: a plain PDF that every viewer and printer reads.
    let pdf = pdf.with_conformance(PdfConformance::Custom(CustomPdfConformance {
        requires_icc_profile: false,
        requires_xmp_metadata: false,
        ..Default::default()
    }));
    let font: IndirectFontRef = pdf
        .add_external_font(std::io::Cursor::new(FONT))
        .map_err(|e| failed(&e))?;
    let room = PAGE_WIDTH - 2.0 * MARGIN;
    let mut layer = pdf.get_page(page).get_layer(layer);
    let mut pages = 1;
    let mark = |layer: &printpdf::PdfLayerReference, number: usize| {
        layer.use_text(
            format!("{} · {number}", doc.marking),
            8.0,
            Mm(MARGIN),
            Mm(PAGE_HEIGHT - MARGIN / 2.0),
            &font,
        );
    };
    mark(&layer, pages);
    let mut y = PAGE_HEIGHT - MARGIN;
    for line in &doc.lines {
        let size = line.size();
        let step = size * 1.45 * POINT_IN_MM;
        let (text, before) = match line {
            Line::Title(t) => (t.as_str(), 0.0),
            Line::Heading(t) => (t.as_str(), step * 0.6),
            Line::Text(t) => (t.as_str(), 0.0),
            Line::Gap => ("", 0.0),
        };
        y -= before;
        for wrapped in measure.wrap(text, size, room) {
            if y - step < MARGIN {
                let (p, l) = pdf.add_page(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), "text");
                layer = pdf.get_page(p).get_layer(l);
                pages += 1;
                mark(&layer, pages);
                y = PAGE_HEIGHT - MARGIN;
            }
            y -= step;
            if !wrapped.is_empty() {
                layer.use_text(wrapped, size, Mm(MARGIN), Mm(y), &font);
            }
        }
    }
    pdf.save_to_bytes().map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_wraps_within_the_page_and_a_long_word_breaks() {
        let measure = Measure {
            face: ttf_parser::Face::parse(FONT, 0).expect("font"),
        };
        let room = PAGE_WIDTH - 2.0 * MARGIN;
        let text = "Trafodaeth strategaeth ynghylch diogelwch y plentyn ".repeat(8);
        let lines = measure.wrap(&text, 10.0, room);
        assert!(lines.len() > 2, "{lines:?}");
        assert!(lines.iter().all(|l| measure.width(l, 10.0) <= room));
        let word = "ŵ".repeat(400);
        let broken = measure.wrap(&word, 10.0, room);
        assert!(broken.len() > 1 && broken.concat() == word);
    }

    #[test]
    fn the_font_has_every_letter_of_the_welsh_alphabet() {
        let face = ttf_parser::Face::parse(FONT, 0).expect("font");
        let letters = "abcchddeffffgngnghijllmnophrrhstthuwyâêîôûŵŷäëïöüÿẅàèìòùẁỳáéíóúẃý";
        for c in letters.chars().chain(letters.to_uppercase().chars()) {
            assert!(face.glyph_index(c).is_some(), "{c} has no glyph");
        }
    }
}
