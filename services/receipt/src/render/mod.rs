//! Renderings of a receipt for people: the A5 PDF with its embedded font and QR code. Pure: bytes in,
//! bytes out; the canonical XML lives in the domain, because it is what is signed.

pub mod pdf;
mod qr;
mod text;
