//! Renderings for people: a receipt as the A5 PDF with its embedded font and QR code, and a dossier's
//! result document as an A4 PDF for the officer to sign. Pure: bytes in, bytes out; a receipt's
//! canonical XML lives in the domain, because it is what is signed.

pub mod pdf;
mod qr;
pub mod result;
mod text;
