//! Text codecs and splitting. Arbitrary octets through every decoder (GSM
//! 03.38 unpacked and packed with any tables, UCS-2, Latin-1, by data_coding)
//! never panic; arbitrary text through choose → split → decode comes back
//! unchanged, part boundaries included.
#![no_main]

use carrier_protocol::segment::split::{SplitOptions, split_text};
use carrier_protocol::segment::udh::parse_udh;
use carrier_protocol::text::choose::{Concatenation, EncodingOptions, LanguageSet};
use carrier_protocol::text::gsm7::{self, Tables};
use carrier_protocol::text::{self, Encoding, NationalLanguage, latin1, ucs2};
use libfuzzer_sys::fuzz_target;

fn language(id: u8) -> Option<NationalLanguage> {
    NationalLanguage::from_id(id % 16)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    // Decoders over arbitrary octets.
    let tables = (language(control), language(control >> 4));
    let _ = text::decode(control, rest, tables);
    let _ = gsm7::decode_unpacked(rest, Tables::for_decoding(tables.0, tables.1));
    let _ = gsm7::unpack(rest, rest.len() * 8 / 7, control % 7);
    let _ = ucs2::decode(rest);
    let _ = ucs2::decode_lossy(rest);
    let _ = latin1::decode(rest);
    let _ = parse_udh(rest);

    // Round trip of arbitrary text.
    let Ok(input) = std::str::from_utf8(rest) else {
        return;
    };
    let languages: LanguageSet = NationalLanguage::ALL
        .iter()
        .copied()
        .filter(|l| control & (1 << (l.id() % 8)) != 0)
        .collect();
    let options = EncodingOptions {
        languages,
        allow_latin1: control & 0x80 != 0,
        concatenation: if control & 0x40 != 0 {
            Concatenation::Udh16
        } else {
            Concatenation::Udh8
        },
    };
    let Ok(segments) = split_text(input, &options, &SplitOptions::default()) else {
        return;
    };
    let mut out = String::new();
    for part in &segments.parts {
        let payload = if part.udhi {
            let (udh, payload) = parse_udh(&part.short_message).expect("our UDH parses");
            assert_eq!(udh.gsm7_tables(), segments.tables);
            payload
        } else {
            &part.short_message[..]
        };
        let piece = match segments.encoding {
            Encoding::Gsm7 => gsm7::decode_unpacked(payload, segments.tables).expect("our septets"),
            Encoding::Ucs2 => ucs2::decode(payload).expect("our UTF-16 never splits a pair"),
            Encoding::Latin1 => latin1::decode(payload),
            Encoding::Binary => return,
        };
        out.push_str(&piece);
    }
    assert_eq!(out, input);
});
