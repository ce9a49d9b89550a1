//! Real media for MO MMS and tests: a small JPEG and a small H.264 MP4
//! embedded in the binary, so `demo` and the tests send what a handset
//! would (files that `media::sniff` and any viewer recognise) without
//! fixtures on disk; and the content type of an MO file's media.
//!
//! `media/sample.jpg` is a 160x120 gradient with a caption (ImageMagick);
//! `media/sample.mp4` one second of ffmpeg's `testsrc` at 160x120, 10 fps,
//! H.264 in an `isom` MP4 with `faststart`.

use std::path::Path;

use crate::media::sniff::{SNIFF_BYTES, sniff};

/// A 160x120 JPEG (about 3 KB).
pub fn sample_jpeg() -> &'static [u8] {
    include_bytes!("media/sample.jpg")
}

/// A one-second 160x120 H.264 MP4 (about 4 KB).
pub fn sample_mp4() -> &'static [u8] {
    include_bytes!("media/sample.mp4")
}

/// The content type of a media file: what its bytes are (`media::sniff`),
/// else what its extension says, else `application/octet-stream`.
pub fn content_type_of(path: &Path, bytes: &[u8]) -> &'static str {
    if let Some(sniffed) = sniff(&bytes[..bytes.len().min(SNIFF_BYTES)]) {
        return sniffed;
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        "mp4" | "m4v" => "video/mp4",
        "3gp" => "video/3gpp",
        "mov" => "video/quicktime",
        "amr" => "audio/amr",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "txt" => "text/plain; charset=utf-8",
        "vcf" => "text/vcard",
        "smil" => "application/smil",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_samples_are_what_sniffing_says() {
        assert_eq!(sniff(sample_jpeg()), Some("image/jpeg"));
        assert_eq!(sniff(sample_mp4()), Some("video/mp4"));
        assert!(sample_jpeg().len() < 30_000 && sample_mp4().len() < 30_000);
        // A JPEG ends with EOI; an MP4 has its moov before mdat (faststart).
        assert!(sample_jpeg().ends_with(&[0xFF, 0xD9]));
        let mp4 = sample_mp4();
        let find = |tag: &[u8]| mp4.windows(4).position(|w| w == tag);
        assert!(matches!((find(b"moov"), find(b"mdat")), (Some(m), Some(d)) if m < d));
    }

    #[test]
    fn bytes_win_over_the_extension_then_the_extension_then_octet_stream() {
        assert_eq!(
            content_type_of(Path::new("photo.png"), sample_jpeg()),
            "image/jpeg"
        );
        assert_eq!(
            content_type_of(Path::new("note.TXT"), b"hello"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            content_type_of(Path::new("blob"), b"\x00\x01"),
            "application/octet-stream"
        );
    }
}
