//! What a media file really is, from its first bytes (magic numbers), and
//! whether the gateway accepts it: images, video, audio, vCards and PDF.
//!
//! Why not trust `Content-Type`: a customer's MMS, or a client's upload,
//! can declare `image/jpeg` over an executable or an HTML page, and the
//! agents' desktops open what the core hands them. The stored type is the
//! one the bytes show; a declared type of another kind is refused.

/// How many leading bytes [`sniff`] looks at.
pub const SNIFF_BYTES: usize = 64;

/// The media types the gateway stores, by what their bytes start with.
/// Returns the canonical content type, or `None` for anything else.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if starts(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some("image/png");
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some("image/gif");
    }
    if starts(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        return Some("image/webp");
    }
    if starts(b"RIFF") && head.get(8..12) == Some(b"WAVE") {
        return Some("audio/wav");
    }
    if starts(b"BM") && head.len() >= 14 && head.get(6..10) == Some(&[0, 0, 0, 0]) {
        return Some("image/bmp");
    }
    if head.get(4..8) == Some(b"ftyp") {
        return iso_media(head.get(8..12).unwrap_or_default());
    }
    if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some("video/webm");
    }
    if starts(b"#!AMR\n") || starts(b"#!AMR-WB\n") {
        return Some("audio/amr");
    }
    if starts(b"OggS") {
        return Some("audio/ogg");
    }
    if starts(b"ID3")
        || (head.len() >= 2 && head[0] == 0xFF && matches!(head[1], 0xFB | 0xF3 | 0xF2))
    {
        return Some("audio/mpeg");
    }
    if head.len() >= 2 && head[0] == 0xFF && matches!(head[1], 0xF1 | 0xF9) {
        return Some("audio/aac");
    }
    if starts(b"%PDF-") {
        return Some("application/pdf");
    }
    let text = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    let text = &text[text.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    if text.len() >= 11 && text[..11].eq_ignore_ascii_case(b"BEGIN:VCARD") {
        return Some("text/vcard");
    }
    None
}

/// ISO base media files (MP4, 3GP, QuickTime, HEIF) by their major brand.
fn iso_media(brand: &[u8]) -> Option<&'static str> {
    match brand {
        b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" => Some("image/heic"),
        b"mif1" | b"msf1" => Some("image/heif"),
        b"avif" | b"avis" => Some("image/avif"),
        b"3gp4" | b"3gp5" | b"3gp6" | b"3gp7" | b"3gs7" | b"3ge6" | b"3ge7" | b"3gg6" => {
            Some("video/3gpp")
        }
        b"3g2a" | b"3g2b" | b"3g2c" => Some("video/3gpp2"),
        b"qt  " => Some("video/quicktime"),
        b"M4A " | b"M4B " => Some("audio/mp4"),
        b"isom" | b"iso2" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"avc1" | b"M4V "
        | b"dash" | b"MSNV" | b"f4v " => Some("video/mp4"),
        _ => None,
    }
}

/// Whether a declared type is compatible with the sniffed one: the same
/// type, an alias of it, or a generic declaration of the same kind
/// (`application/octet-stream`, or none, is taken as "unknown").
pub fn declared_matches(declared: Option<&str>, sniffed: &str) -> bool {
    let Some(declared) = declared else {
        return true;
    };
    let declared = declared
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if declared.is_empty() || declared == "application/octet-stream" || declared == sniffed {
        return true;
    }
    let alias = match declared.as_str() {
        "image/jpg" | "image/pjpeg" => "image/jpeg",
        "text/x-vcard" | "text/directory" => "text/vcard",
        "audio/x-wav" | "audio/wave" => "audio/wav",
        "audio/mp3" => "audio/mpeg",
        "audio/3gpp" => "video/3gpp",
        "audio/x-m4a" | "audio/m4a" => "audio/mp4",
        "image/heic-sequence" => "image/heic",
        "image/heif-sequence" => "image/heif",
        other => other,
    };
    if alias == sniffed {
        return true;
    }
    // A container declared by another kind: an MP4 with audio only is
    // often declared audio/mp4, a 3GP voice note audio/3gpp.
    matches!(
        (alias, sniffed),
        ("audio/mp4", "video/mp4") | ("video/mp4", "audio/mp4") | ("video/3gpp", "video/3gpp2")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_are_known_by_their_bytes() {
        let cases: &[(&[u8], &str)] = &[
            (
                &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'],
                "image/jpeg",
            ),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "image/png"),
            (b"GIF89a\x01\0\x01\0", "image/gif"),
            (b"RIFF\x24\0\0\0WEBPVP8 ", "image/webp"),
            (b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom", "video/mp4"),
            (b"\0\0\0\x14ftyp3gp4\0\0\0\0", "video/3gpp"),
            (b"\0\0\0\x18ftypheic\0\0\0\0", "image/heic"),
            (b"\0\0\0\x14ftypqt  \0\0\0\0", "video/quicktime"),
            (b"#!AMR\n\x3c", "audio/amr"),
            (b"ID3\x04\0\0", "audio/mpeg"),
            (b"%PDF-1.7\n", "application/pdf"),
            (b"\xEF\xBB\xBF  begin:vcard\r\nVERSION:3.0", "text/vcard"),
            (b"RIFF\x24\0\0\0WAVEfmt ", "audio/wav"),
        ];
        for (bytes, expected) in cases {
            assert_eq!(sniff(bytes), Some(*expected), "{expected}");
        }
    }

    #[test]
    fn executables_and_documents_are_not_media() {
        for bytes in [
            &b"MZ\x90\0\x03\0\0\0"[..],
            b"\x7fELF\x02\x01\x01",
            b"#!/bin/sh\nrm -rf /",
            b"<html><script>",
            b"PK\x03\x04",
            b"",
            b"\0\0\0\x18ftypXXXX",
        ] {
            assert_eq!(sniff(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn declared_types_must_agree() {
        assert!(declared_matches(Some("image/jpeg"), "image/jpeg"));
        assert!(declared_matches(
            Some("IMAGE/JPG; name=x.jpg"),
            "image/jpeg"
        ));
        assert!(declared_matches(None, "video/mp4"));
        assert!(declared_matches(
            Some("application/octet-stream"),
            "image/png"
        ));
        assert!(declared_matches(Some("audio/mp4"), "video/mp4"));
        assert!(!declared_matches(Some("image/jpeg"), "video/mp4"));
        assert!(!declared_matches(Some("text/html"), "image/png"));
    }
}
