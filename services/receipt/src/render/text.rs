//! Vietnamese text in the embedded font: DejaVu Sans (Bitstream Vera licence, `fonts/LICENSE-DejaVu.txt`),
//! which has every precomposed Vietnamese letter. Text is written as glyph ids (Identity-H), with
//! widths and a ToUnicode map so that viewers and `pdftotext` read it back as text.

use std::collections::BTreeMap;

use ttf_parser::{Face, GlyphId};

/// The font's bytes, embedded in every PDF.
pub const FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

/// The font, parsed once per rendering, and the glyphs the rendering used.
pub struct FontUse<'a> {
    face: Face<'a>,
    /// Each glyph used, with the character it shows.
    pub used: BTreeMap<u16, char>,
}

/// The embedded font could not be read: a broken build, never a caller's fault.
#[derive(Debug, thiserror::Error)]
#[error("the embedded font cannot be parsed: {0}")]
pub struct FontError(ttf_parser::FaceParsingError);

impl FontUse<'static> {
    /// The embedded font, with no glyph used yet.
    pub fn embedded() -> Result<Self, FontError> {
        Ok(Self { face: Face::parse(FONT, 0).map_err(FontError)?, used: BTreeMap::new() })
    }
}

impl FontUse<'_> {
    /// Units per em of the font.
    pub fn units_per_em(&self) -> f32 {
        f32::from(self.face.units_per_em())
    }

    /// The font's face, for its metrics.
    pub fn face(&self) -> &Face<'_> {
        &self.face
    }

    fn glyph(&self, character: char) -> GlyphId {
        // A character the font lacks shows as its "missing" glyph rather than failing the receipt.
        self.face.glyph_index(character).unwrap_or(GlyphId(0))
    }

    /// The advance of glyph `glyph` in thousandths of an em, as PDF widths are.
    pub fn advance(&self, glyph: u16) -> f32 {
        let advance = self.face.glyph_hor_advance(GlyphId(glyph)).unwrap_or(0);
        f32::from(advance) * 1000.0 / self.units_per_em()
    }

    /// The width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|character| self.advance(self.glyph(character).0)).sum::<f32>() * size / 1000.0
    }

    /// `text` as the two-byte glyph ids Identity-H shows, noting each glyph as used.
    pub fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for character in text.chars() {
            let glyph = self.glyph(character).0;
            self.used.entry(glyph).or_insert(character);
            bytes.extend(glyph.to_be_bytes());
        }
        bytes
    }

    /// `text` cut into lines no wider than `width` points at `size`, at spaces where it can.
    pub fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split(' ') {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if self.width(&candidate, size) <= width || line.is_empty() {
                line = candidate;
            } else {
                lines.push(std::mem::take(&mut line));
                line = word.to_owned();
            }
        }
        lines.push(line);
        lines
    }
}
